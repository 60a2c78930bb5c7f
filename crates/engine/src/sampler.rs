//! Token sampling: greedy at temperature 0, otherwise temperature, penalties,
//! top-k and top-p (nucleus) over a seeded RNG, so the same seed and request give
//! the same text.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

#[derive(Debug, Clone, PartialEq)]
pub struct SamplingParams {
    pub temperature: f32,
    pub top_p: f32,
    /// 0 disables top-k.
    pub top_k: usize,
    pub presence_penalty: f32,
    pub frequency_penalty: f32,
    pub seed: u64,
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
        }
    }
}

pub struct Sampler {
    params: SamplingParams,
    rng: StdRng,
}

impl Sampler {
    pub fn new(params: SamplingParams) -> Self {
        let rng = StdRng::seed_from_u64(params.seed);
        Self { params, rng }
    }

    /// Picks the next token from `logits`, given the tokens generated so far
    /// (for the OpenAI presence and frequency penalties).
    pub fn sample(&mut self, logits: &mut [f32], generated: &[u32]) -> u32 {
        self.apply_penalties(logits, generated);
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

    #[test]
    fn zero_temperature_is_greedy() {
        let mut s = Sampler::new(params(0.0, 1));
        assert_eq!(s.sample(&mut [0.1, 3.0, 2.0], &[]), 1);
    }

    #[test]
    fn the_same_seed_draws_the_same_tokens() {
        let draw = |seed| {
            let mut s = Sampler::new(params(1.0, seed));
            (0..32)
                .map(|_| s.sample(&mut [1.0, 1.1, 0.9, 1.05], &[]))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn top_k_one_is_greedy_at_any_temperature() {
        let mut s = Sampler::new(SamplingParams {
            top_k: 1,
            ..params(1.5, 3)
        });
        for _ in 0..20 {
            assert_eq!(s.sample(&mut [0.5, 0.4, 0.6, 0.1], &[]), 2);
        }
    }

    #[test]
    fn a_tiny_top_p_keeps_only_the_most_likely_token() {
        let mut s = Sampler::new(SamplingParams {
            top_p: 0.01,
            ..params(1.0, 5)
        });
        for _ in 0..20 {
            assert_eq!(s.sample(&mut [0.0, 5.0, 4.9], &[]), 1);
        }
    }

    #[test]
    fn presence_penalty_steers_away_from_repeated_tokens() {
        let mut s = Sampler::new(SamplingParams {
            presence_penalty: 2.0,
            ..params(0.0, 0)
        });
        assert_eq!(s.sample(&mut [1.0, 2.0], &[1]), 0);
    }
}
