//! Attention of one query head over its sequence's cached keys and values:
//! scores, a softmax and the weighted sum of values, with the two loops over
//! positions in AVX2 registers where the build targets it.

use half::f16;

use super::ops::exp;

/// Causal attention of one query head `q` (`head_dim` values, scores scaled
/// by `scale`) over the `keys`/`values` of its KV head (rows `stride` apart,
/// the head's values at `offset`), written to `out`; `scores` is scratch
/// space the caller reuses.
pub fn attend(
    q: &[f32],
    keys: &[f16],
    values: &[f16],
    (stride, offset): (usize, usize),
    scale: f32,
    scores: &mut Vec<f32>,
    out: &mut [f32],
) {
    let head_dim = q.len();
    let positions = keys.len() / stride;
    assert!(offset + head_dim <= stride && values.len() >= positions * stride);
    scores.clear();
    scores.resize(positions, 0.0);
    let at = |t: usize| t * stride + offset..t * stride + offset + head_dim;
    if !avx::scores(q, keys, stride, offset, scores) {
        for (t, s) in scores.iter_mut().enumerate() {
            *s = q
                .iter()
                .zip(&keys[at(t)])
                .map(|(a, k)| a * k.to_f32())
                .sum();
        }
    }
    softmax(scores, scale);
    if !avx::weighted_sum(scores, values, stride, offset, out) {
        out.fill(0.0);
        for (t, &w) in scores.iter().enumerate() {
            for (o, v) in out.iter_mut().zip(&values[at(t)]) {
                *o += w * v.to_f32();
            }
        }
    }
}

/// `scores` (unscaled) to the softmax of `scale · scores`, in place.
fn softmax(scores: &mut [f32], scale: f32) {
    let max = scores
        .iter()
        .fold(f32::NEG_INFINITY, |m, &s| m.max(s * scale));
    // Separate passes so that each vectorises: exponents, their sum in
    // eight lanes, the weights.
    for s in scores.iter_mut() {
        *s = exp(*s * scale - max);
    }
    let mut lanes = [0f32; 8];
    let chunks = scores.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for i in 0..8 {
            lanes[i] += c[i];
        }
    }
    let sum = lanes.iter().sum::<f32>() + rest;
    for s in scores.iter_mut() {
        *s /= sum;
    }
}

/// Attention's two loops on AVX2 registers, for heads of a multiple of 8
/// dimensions (every model we load). The compiler does not keep a head's
/// running sums in registers by itself.
#[cfg(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma",
    target_feature = "f16c"
))]
mod avx {
    use half::f16;
    use std::arch::x86_64::*;

    /// Eight f16 from `p` as f32.
    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    unsafe fn load(p: *const f16) -> __m256 {
        // SAFETY: the caller's: eight values at p.
        unsafe { _mm256_cvtph_ps(_mm_loadu_si128(p as *const __m128i)) }
    }

    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256) -> f32 {
        let half = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
        let quad = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(quad, _mm_movehdup_ps(quad)))
    }

    /// `scores[t] = q · key t`; false (nothing done) unless the head has a
    /// multiple of 8 dimensions.
    pub fn scores(
        q: &[f32],
        keys: &[f16],
        stride: usize,
        offset: usize,
        scores: &mut [f32],
    ) -> bool {
        // SAFETY: this module is compiled only for AVX2 and FMA (its cfg).
        q.len().is_multiple_of(8) && {
            unsafe { scores_avx(q, keys, stride, offset, scores) };
            true
        }
    }

    /// `out = Σ_t weights[t] · value t`; false as [`scores`].
    pub fn weighted_sum(
        weights: &[f32],
        values: &[f16],
        stride: usize,
        offset: usize,
        out: &mut [f32],
    ) -> bool {
        // SAFETY: as in `scores`.
        out.len().is_multiple_of(8) && {
            unsafe { weighted_sum_avx(weights, values, stride, offset, out) };
            true
        }
    }

    /// Four positions at a time: four FMA chains.
    #[target_feature(enable = "avx2,fma,f16c")]
    fn scores_avx(q: &[f32], keys: &[f16], stride: usize, offset: usize, scores: &mut [f32]) {
        let head_dim = q.len();
        assert!(head_dim.is_multiple_of(8) && offset + head_dim <= stride);
        assert!(keys.len() >= scores.len() * stride);
        let key = |t: usize| keys[t * stride + offset..].as_ptr();
        let mut chunks = scores.chunks_exact_mut(4);
        let mut t = 0;
        let qp = q.as_ptr();
        for out in &mut chunks {
            let (k0, k1, k2, k3) = (key(t), key(t + 1), key(t + 2), key(t + 3));
            let (mut a0, mut a1, mut a2, mut a3) = (
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
                _mm256_setzero_ps(),
            );
            let mut c = 0;
            while c < head_dim {
                // SAFETY: c + 8 <= head_dim, and key t's head_dim values lie
                // within `keys` (asserted above); q holds head_dim values.
                unsafe {
                    let qv = _mm256_loadu_ps(qp.add(c));
                    a0 = _mm256_fmadd_ps(qv, load(k0.add(c)), a0);
                    a1 = _mm256_fmadd_ps(qv, load(k1.add(c)), a1);
                    a2 = _mm256_fmadd_ps(qv, load(k2.add(c)), a2);
                    a3 = _mm256_fmadd_ps(qv, load(k3.add(c)), a3);
                }
                c += 8;
            }
            out[0] = hsum(a0);
            out[1] = hsum(a1);
            out[2] = hsum(a2);
            out[3] = hsum(a3);
            t += 4;
        }
        for o in chunks.into_remainder() {
            let k = key(t);
            let mut acc = _mm256_setzero_ps();
            let mut c = 0;
            while c < head_dim {
                // SAFETY: as above.
                acc = unsafe { _mm256_fmadd_ps(_mm256_loadu_ps(qp.add(c)), load(k.add(c)), acc) };
                c += 8;
            }
            *o = hsum(acc);
            t += 1;
        }
    }

    /// `out = Σ_t weights[t] · value t`, 64 dimensions (eight registers) at
    /// a time, then 8; each dimension summed position by position.
    #[target_feature(enable = "avx2,fma,f16c")]
    fn weighted_sum_avx(
        weights: &[f32],
        values: &[f16],
        stride: usize,
        offset: usize,
        out: &mut [f32],
    ) {
        let head_dim = out.len();
        assert!(head_dim.is_multiple_of(8) && offset + head_dim <= stride);
        assert!(values.len() >= weights.len() * stride);
        let mut c = 0;
        while c < head_dim {
            if head_dim - c >= 64 {
                sum_dims::<8>(weights, values, stride, offset + c, &mut out[c..c + 64]);
                c += 64;
            } else {
                sum_dims::<1>(weights, values, stride, offset + c, &mut out[c..c + 8]);
                c += 8;
            }
        }
    }

    #[target_feature(enable = "avx2,fma,f16c")]
    #[inline]
    fn sum_dims<const R: usize>(
        weights: &[f32],
        values: &[f16],
        stride: usize,
        at: usize,
        out: &mut [f32],
    ) {
        assert!(
            out.len() == 8 * R
                && values.len() >= weights.len().saturating_sub(1) * stride + at + 8 * R
        );
        let mut acc = [_mm256_setzero_ps(); R];
        let mut v = values[at..].as_ptr();
        for &w in weights {
            let wv = _mm256_set1_ps(w);
            #[allow(clippy::needless_range_loop)]
            for i in 0..R {
                // SAFETY: t · stride + at + 8·R <= values.len() for each
                // position t (asserted above); v is value t's first.
                acc[i] = _mm256_fmadd_ps(wv, unsafe { load(v.add(8 * i)) }, acc[i]);
            }
            v = v.wrapping_add(stride);
        }
        #[allow(clippy::needless_range_loop)]
        for i in 0..R {
            // SAFETY: out holds 8·R values (asserted above).
            unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(8 * i), acc[i]) };
        }
    }
}

/// Without AVX2 attention takes the portable loops.
#[cfg(not(all(
    target_arch = "x86_64",
    target_feature = "avx2",
    target_feature = "fma",
    target_feature = "f16c"
)))]
mod avx {
    use half::f16;

    pub fn scores(_: &[f32], _: &[f16], _: usize, _: usize, _: &mut [f32]) -> bool {
        false
    }

    pub fn weighted_sum(_: &[f32], _: &[f16], _: usize, _: usize, _: &mut [f32]) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn halves(v: &[f32]) -> Vec<f16> {
        v.iter().map(|&x| f16::from_f32(x)).collect()
    }

    #[test]
    fn attention_matches_the_f64_softmax_for_wide_heads_and_any_length() {
        // 72 dimensions: one 64-wide pass and one 8-wide; up to 11 positions:
        // groups of four and every remainder. Two KV heads, the second read.
        let (head_dim, stride, offset) = (72, 144, 72);
        let val = |i: usize, s: usize| ((i * s % 23) as f32 - 11.0) / 9.0;
        let q: Vec<f32> = (0..head_dim).map(|i| val(i, 5)).collect();
        for positions in 1..=11 {
            let keys: Vec<f16> = (0..positions * stride)
                .map(|i| f16::from_f32(val(i, 7)))
                .collect();
            let values: Vec<f16> = (0..positions * stride)
                .map(|i| f16::from_f32(val(i, 3)))
                .collect();
            let mut out = vec![0f32; head_dim];
            let scale = 0.125;
            attend(
                &q,
                &keys,
                &values,
                (stride, offset),
                scale,
                &mut Vec::new(),
                &mut out,
            );
            let scores: Vec<f64> = (0..positions)
                .map(|t| {
                    let k = &keys[t * stride + offset..][..head_dim];
                    q.iter()
                        .zip(k)
                        .map(|(a, b)| *a as f64 * b.to_f64())
                        .sum::<f64>()
                        * scale as f64
                })
                .collect();
            let max = scores.iter().cloned().fold(f64::MIN, f64::max);
            let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let sum: f64 = weights.iter().sum();
            for (d, &got) in out.iter().enumerate() {
                let want: f64 = (0..positions)
                    .map(|t| weights[t] / sum * values[t * stride + offset + d].to_f64())
                    .sum();
                assert!(
                    (got as f64 - want).abs() < 1e-5,
                    "{positions} positions, dim {d}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn attention_over_one_position_returns_its_value() {
        let (q, k, v) = ([1.0, 0.0], [0.5, 0.5], [3.0, -2.0]);
        let mut out = [0.0; 2];
        attend(
            &q,
            &halves(&k),
            &halves(&v),
            (2, 0),
            1.0,
            &mut Vec::new(),
            &mut out,
        );
        assert_eq!(out, [3.0, -2.0]);
    }

    #[test]
    fn attention_weights_favour_the_matching_key() {
        // Two positions; the query matches the second key strongly.
        let q = [0.0, 10.0];
        let k = [10.0, 0.0, 0.0, 10.0];
        let v = [1.0, 1.0, 5.0, 5.0];
        let mut out = [0.0; 2];
        attend(
            &q,
            &halves(&k),
            &halves(&v),
            (2, 0),
            1.0,
            &mut Vec::new(),
            &mut out,
        );
        assert!(out[0] > 4.99 && out[0] <= 5.0, "{out:?}");
    }

    #[test]
    fn grouped_query_heads_read_their_own_kv_head() {
        // Two KV heads of width 1 per position; the second head's values are 7.
        let keys = [1.0, 1.0, 1.0, 1.0];
        let values = [2.0, 7.0, 2.0, 7.0];
        let mut out = [0.0];
        attend(
            &[1.0],
            &halves(&keys),
            &halves(&values),
            (2, 1),
            1.0,
            &mut Vec::new(),
            &mut out,
        );
        assert_eq!(out, [7.0]);
    }
}
