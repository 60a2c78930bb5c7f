//! Token sampling: penalties and repetition control first, then greedy at
//! temperature 0, otherwise temperature, top-k and top-p (nucleus) over a
//! seeded RNG, so the same seed and request give the same text.

mod repetition;

use std::collections::HashSet;
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub use repetition::{breaker_ids, Repetition, Window, DEFAULT_BREAKERS};

#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    pub temperature: f32,
    pub top_p: f32,
    /// 0 disables top-k.
    pub top_k: usize,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    pub seed: u64,
    pub repetition: Repetition,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            seed: 0,
            repetition: Repetition::default(),
        }
    }
}

impl SamplingParams {
    /// What BA Copilot's own features (chat answers, SRS, wireframes) sample
    /// with: repetition control on, over the generated text only, so an answer
    /// may quote its sources but not itself. Measured on SmolLM2-135M at
    /// temperature 0 (see the README's "Repetition control").
    pub fn for_features(temperature: f32, seed: u64) -> Self {
        Self {
            temperature,
            seed,
            repetition: Repetition {
                repeat_penalty: 1.1,
                repeat_last_n: Window::Last(64),
                dry_multiplier: 0.8,
                no_repeat_ngram: 8,
                include_prompt: false,
                ..Repetition::default()
            },
            ..Self::default()
        }
    }
}

pub struct Sampler {
    params: SamplingParams,
    rng: StdRng,
    /// The prompt, kept when a repetition window reaches into it.
    prompt: Vec<u32>,
    /// Tokens that end a repeated sequence (see [`breaker_ids`]).
    breakers: Arc<HashSet<u32>>,
}

impl Sampler {
    pub fn new(params: SamplingParams, prompt: &[u32], breakers: Arc<HashSet<u32>>) -> Self {
        let rng = StdRng::seed_from_u64(params.seed);
        let prompt = if params.repetition.reads_prompt() {
            prompt.to_vec()
        } else {
            Vec::new()
        };
        Self {
            params,
            rng,
            prompt,
            breakers,
        }
    }

    /// Picks the next token from `logits`, given the tokens generated so far.
    /// Logits a constraint masked are already minus infinity; nothing here
    /// lifts them.
    pub fn sample(&mut self, logits: &mut [f32], generated: &[u32]) -> u32 {
        self.apply_penalties(logits, generated);
        self.control_repetition(logits, generated);
        if self.params.temperature <= 0.0 {
            return argmax(logits);
        }
        let mut candidates: Vec<(u32, f32)> = logits
            .iter()
            .enumerate()
            .filter(|(_, l)| l.is_finite())
            .map(|(i, &l)| (i as u32, l / self.params.temperature))
            .collect();
        if candidates.is_empty() {
            return argmax(logits);
        }
        candidates.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        if self.params.top_k > 0 {
            candidates.truncate(self.params.top_k);
        }
        let max = candidates[0].1;
        let mut probs: Vec<f32> = candidates.iter().map(|(_, l)| (l - max).exp()).collect();
        let total: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|p| *p /= total);
        if self.params.top_p < 1.0 {
            let mut cumulative = 0.0;
            let keep = probs
                .iter()
                .position(|p| {
                    cumulative += p;
                    cumulative >= self.params.top_p
                })
                .map_or(probs.len(), |i| i + 1);
            probs.truncate(keep);
            let total: f32 = probs.iter().sum();
            probs.iter_mut().for_each(|p| *p /= total);
        }
        let mut target: f32 = self.rng.random();
        for (i, p) in probs.iter().enumerate() {
            target -= p;
            if target <= 0.0 {
                return candidates[i].0;
            }
        }
        candidates[probs.len() - 1].0
    }

    fn apply_penalties(&self, logits: &mut [f32], generated: &[u32]) {
        let (presence, frequency) = (self.params.presence_penalty, self.params.frequency_penalty);
        if (presence == 0.0 && frequency == 0.0) || generated.is_empty() {
            return;
        }
        let mut counts = std::collections::HashMap::<u32, u32>::new();
        for &t in generated {
            *counts.entry(t).or_default() += 1;
        }
        for (t, n) in counts {
            if let Some(l) = logits.get_mut(t as usize) {
                *l -= presence + frequency * n as f32;
            }
        }
    }
}

impl Sampler {
    fn control_repetition(&self, logits: &mut [f32], generated: &[u32]) {
        let r = &self.params.repetition;
        let joined;
        let context = if self.prompt.is_empty() {
            generated
        } else {
            joined = [&self.prompt[..], generated].concat();
            &joined[..]
        };
        repetition::repeat_penalty(logits, context, r);
        repetition::dry(logits, context, r, &self.breakers);
        repetition::ban_repeated_ngrams(logits, generated, r.no_repeat_ngram, &self.breakers);
    }
}

fn argmax(logits: &[f32]) -> u32 {
    let mut best = 0;
    for (i, l) in logits.iter().enumerate() {
        if *l > logits[best] {
            best = i;
        }
    }
    best as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(temperature: f32, seed: u64) -> SamplingParams {
        SamplingParams {
            temperature,
            seed,
            ..Default::default()
        }
    }

    fn sampler(p: SamplingParams) -> Sampler {
        Sampler::new(p, &[], Arc::default())
    }

    #[test]
    fn zero_temperature_is_greedy() {
        let mut s = sampler(params(0.0, 1));
        assert_eq!(s.sample(&mut [0.1, 3.0, 2.0], &[]), 1);
    }

    #[test]
    fn the_same_seed_draws_the_same_tokens() {
        let draw = |seed| {
            let mut s = sampler(params(1.0, seed));
            (0..32)
                .map(|_| s.sample(&mut [1.0, 1.1, 0.9, 1.05], &[]))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn top_k_one_is_greedy_at_any_temperature() {
        let mut s = sampler(SamplingParams {
            top_k: 1,
            ..params(1.5, 3)
        });
        for _ in 0..20 {
            assert_eq!(s.sample(&mut [0.5, 0.4, 0.6, 0.1], &[]), 2);
        }
    }

    #[test]
    fn a_tiny_top_p_keeps_only_the_most_likely_token() {
        let mut s = sampler(SamplingParams {
            top_p: 0.01,
            ..params(1.0, 5)
        });
        for _ in 0..20 {
            assert_eq!(s.sample(&mut [0.0, 5.0, 4.9], &[]), 1);
        }
    }

    #[test]
    fn presence_penalty_steers_away_from_repeated_tokens() {
        let mut s = sampler(SamplingParams {
            presence_penalty: 2.0,
            ..params(0.0, 0)
        });
        assert_eq!(s.sample(&mut [1.0, 2.0], &[1]), 0);
    }

    #[test]
    fn dry_turns_a_greedy_loop_aside() {
        // Greedy would say 4 again after "1 2 3": a repeat of four tokens.
        let loop_ = [1, 2, 3, 4, 1, 2, 3];
        let logits = [0.0, 0.0, 0.0, 0.0, 2.0, 1.5];
        let mut plain = sampler(params(0.0, 0));
        assert_eq!(plain.sample(&mut logits.clone(), &loop_), 4);
        let mut dry = sampler(SamplingParams {
            repetition: Repetition {
                dry_multiplier: 0.8,
                ..Default::default()
            },
            ..params(0.0, 0)
        });
        assert_eq!(dry.sample(&mut logits.clone(), &loop_), 5);
    }

    #[test]
    fn the_repeat_penalty_reaches_into_the_prompt_only_when_asked() {
        let p = |include_prompt| SamplingParams {
            repetition: Repetition {
                repeat_penalty: 2.0,
                include_prompt,
                ..Default::default()
            },
            ..params(0.0, 0)
        };
        let logits = [1.5, 2.0];
        let mut llama = Sampler::new(p(true), &[1], Arc::default());
        assert_eq!(llama.sample(&mut logits.clone(), &[]), 0);
        let mut features = Sampler::new(p(false), &[1], Arc::default());
        assert_eq!(features.sample(&mut logits.clone(), &[]), 1);
    }

    #[test]
    fn features_may_quote_their_prompt_but_not_repeat_themselves() {
        let quote = [7, 8, 9, 10, 11, 12, 13, 14, 15];
        let mut logits = [0.0; 20];
        logits[15] = 3.0;
        let mut s = Sampler::new(SamplingParams::for_features(0.0, 0), &quote, Arc::default());
        // Copying the prompt's sequence goes on.
        assert_eq!(s.sample(&mut logits.clone(), &quote[..8]), 15);
        // Saying its own eight tokens again does not.
        let said_twice = [quote, quote].concat();
        assert_ne!(s.sample(&mut logits.clone(), &said_twice[..17]), 15);
    }
}
