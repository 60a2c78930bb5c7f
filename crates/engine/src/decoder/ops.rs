//! The element-wise parts of a decoder step, on plain f32 slices. Sums use
//! eight lanes so the compiler vectorises them (AVX2 holds eight f32); each
//! result depends only on its own row, never on the batch around it.

use rayon::prelude::*;

/// Dot product in eight independent lanes, summed in a fixed order.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let mut sum = lanes.iter().sum::<f32>();
    for (x, y) in ra.iter().zip(rb) {
        sum += x * y;
    }
    sum
}

/// e^x to about 2 ulp, in arithmetic the compiler vectorises (libm's `expf`
/// is a call per value): e^x = 2^n · e^r with n = round(x / ln 2) and a
/// degree-6 polynomial for e^r, |r| ≤ ln 2 / 2. ggml's softmax and SiLU use
/// an approximation of the same kind. 0 below −87.3, 2^127-ish above 88.3.
#[inline(always)]
pub fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let c = x.clamp(-87.3, 88.3);
    let n = (c * std::f32::consts::LOG2_E).round();
    let r = (-n).mul_add(LN2_LO, (-n).mul_add(LN2_HI, c));
    let mut p: f32 = 1.0 / 720.0;
    for k in [120.0, 24.0, 6.0, 2.0, 1.0, 1.0] {
        p = p.mul_add(r, 1.0 / k);
    }
    let scale = f32::from_bits(((n as i32 + 127) << 23) as u32);
    if x < -87.3 {
        0.0
    } else {
        p * scale
    }
}

/// Below this many values an element-wise pass runs on the calling thread:
/// waking the pool costs more than the work (a decode step of a few rows).
pub const PARALLEL_MIN: usize = 32 * 1024;

/// `out[r] = x[r] / rms(x[r]) * w` for each row of `x` (rows of `w.len()`).
pub fn rms_norm(x: &[f32], w: &[f32], eps: f32, out: &mut [f32]) {
    let d = w.len();
    let norm = |(o, row): (&mut [f32], &[f32])| {
        let scale = 1.0 / (dot(row, row) / d as f32 + eps).sqrt();
        for ((o, &v), &wi) in o.iter_mut().zip(row).zip(w) {
            *o = v * scale * wi;
        }
    };
    if x.len() < PARALLEL_MIN {
        out.chunks_mut(d).zip(x.chunks(d)).for_each(norm);
    } else {
        out.par_chunks_mut(d).zip(x.par_chunks(d)).for_each(norm);
    }
}

pub fn add_assign(x: &mut [f32], y: &[f32]) {
    for (a, b) in x.iter_mut().zip(y) {
        *a += b;
    }
}

/// Adds `bias` to every row of `x` (rows of `bias.len()`).
pub fn add_bias(x: &mut [f32], bias: &[f32]) {
    for row in x.chunks_exact_mut(bias.len()) {
        add_assign(row, bias);
    }
}

/// RMSNorm of every `w.len()`-wide slice of `x` in place: Qwen 3's and
/// Gemma 3's per-head norm of queries and keys.
pub fn rms_norm_heads(x: &mut [f32], w: &[f32], eps: f32) {
    let d = w.len();
    for head in x.chunks_exact_mut(d) {
        let scale = 1.0 / (dot(head, head) / d as f32 + eps).sqrt();
        for (v, &wi) in head.iter_mut().zip(w) {
            *v = *v * scale * wi;
        }
    }
}

/// The gate's activation in a gated feed-forward block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation {
    /// SwiGLU (Llama, Mistral, Qwen).
    Silu,
    /// GeGLU with the tanh approximation of GELU (Gemma).
    Gelu,
}

/// `g = act(g) * u`.
pub fn gate_mul(g: &mut [f32], u: &[f32], act: Activation) {
    let f = |(g, u): (&mut [f32], &[f32])| match act {
        Activation::Silu => {
            for (a, &b) in g.iter_mut().zip(u) {
                *a = *a / (1.0 + exp(-*a)) * b;
            }
        }
        Activation::Gelu => {
            // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as ggml's `gelu`.
            const SQRT_2_OVER_PI: f32 = 0.797_884_6;
            for (a, &b) in g.iter_mut().zip(u) {
                let x = *a;
                // tanh z = 1 − 2 / (e^2z + 1).
                let z = SQRT_2_OVER_PI * x * (1.0 + 0.044_715 * x * x);
                let t = 1.0 - 2.0 / (exp(2.0 * z) + 1.0);
                *a = 0.5 * x * (1.0 + t) * b;
            }
        }
    };
    if g.len() < PARALLEL_MIN {
        f((g, u));
    } else {
        g.par_chunks_mut(4096).zip(u.par_chunks(4096)).for_each(f);
    }
}

/// Which dimensions RoPE rotates together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// Pairs `(2i, 2i+1)`: llama.cpp's `LLAMA_ROPE_TYPE_NORM` (llama GGUFs
    /// store Q and K permuted for it).
    Interleaved,
    /// Pairs `(i, i + rope_dim/2)`: `LLAMA_ROPE_TYPE_NEOX` (Qwen, Gemma).
    Neox,
}

/// Rotary position embedding tables: cos and sin of `pos · scale · θ_i` for
/// every position and every pair of the rotated dimensions.
pub struct Rope {
    half: usize,
    style: RopeStyle,
    cos: Vec<f32>,
    sin: Vec<f32>,
}

impl Rope {
    /// Memory the tables hold.
    pub fn bytes(&self) -> u64 {
        ((self.cos.len() + self.sin.len()) * 4) as u64
    }

    /// `scale`: linear position scaling (`1 / rope.scaling.factor`; 1 for none).
    pub fn new(rope_dim: usize, base: f32, scale: f32, style: RopeStyle, positions: usize) -> Self {
        let half = rope_dim / 2;
        let theta: Vec<f32> = (0..half)
            .map(|i| 1.0 / base.powf(2.0 * i as f32 / rope_dim as f32))
            .collect();
        let (mut cos, mut sin) = (
            Vec::with_capacity(positions * half),
            Vec::with_capacity(positions * half),
        );
        for p in 0..positions {
            for &t in &theta {
                let a = p as f32 * scale * t;
                cos.push(a.cos());
                sin.push(a.sin());
            }
        }
        Self {
            half,
            style,
            cos,
            sin,
        }
    }

    /// Rotates the first `2·half` dimensions of every head in `x` for `pos`.
    pub fn apply(&self, x: &mut [f32], head_dim: usize, pos: usize) {
        let cos = &self.cos[pos * self.half..(pos + 1) * self.half];
        let sin = &self.sin[pos * self.half..(pos + 1) * self.half];
        let half = self.half;
        for head in x.chunks_exact_mut(head_dim) {
            for i in 0..half {
                let (ia, ib) = match self.style {
                    RopeStyle::Interleaved => (2 * i, 2 * i + 1),
                    RopeStyle::Neox => (i, i + half),
                };
                let (a, b) = (head[ia], head[ib]);
                head[ia] = a * cos[i] - b * sin[i];
                head[ib] = a * sin[i] + b * cos[i];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_of_the_exact_value_and_zero_far_below() {
        let mut worst = 0f64;
        for i in -870_000..=880_000 {
            let x = i as f32 / 10_000.0;
            let want = (x as f64).exp();
            worst = worst.max((exp(x) as f64 - want).abs() / want);
        }
        assert!(worst < 2.5e-7, "relative error {worst}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-100.0), 0.0);
        assert_eq!(exp(f32::NEG_INFINITY), 0.0);
        assert!(exp(100.0).is_finite() && exp(100.0) > 1e38);
    }

    #[test]
    fn dot_matches_the_f64_sum_for_every_length() {
        for n in [0, 1, 7, 8, 31, 32, 33, 64, 100, 256] {
            let a: Vec<f32> = (0..n).map(|i| ((i * 7 % 13) as f32 - 6.0) / 3.0).collect();
            let b: Vec<f32> = (0..n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 2.0).collect();
            let want: f64 = a.iter().zip(&b).map(|(x, y)| *x as f64 * *y as f64).sum();
            assert!((dot(&a, &b) as f64 - want).abs() < 1e-4, "length {n}");
        }
    }

    #[test]
    fn rope_at_position_zero_is_the_identity_and_preserves_norm_elsewhere() {
        for style in [RopeStyle::Interleaved, RopeStyle::Neox] {
            let rope = Rope::new(4, 10_000.0, 1.0, style, 8);
            let mut x = [1.0, 2.0, 3.0, 4.0];
            rope.apply(&mut x, 4, 0);
            assert_eq!(x, [1.0, 2.0, 3.0, 4.0]);
            rope.apply(&mut x, 4, 5);
            let norm: f32 = x.iter().map(|v| v * v).sum();
            assert!((norm - 30.0).abs() < 1e-4, "{x:?}");
            assert_ne!(x, [1.0, 2.0, 3.0, 4.0]);
        }
    }

    #[test]
    fn neox_rope_rotates_each_dimension_with_its_partner_half_a_head_away() {
        // θ_0 = 1: at position 1 the pair (x0, x2) turns by one radian, and
        // the pair (x1, x3) by 10000^(-1/2) = 0.01 radians.
        let rope = Rope::new(4, 10_000.0, 1.0, RopeStyle::Neox, 2);
        let mut x = [1.0, 0.0, 0.0, 1.0];
        rope.apply(&mut x, 4, 1);
        let (c, s) = (1f32.cos(), 1f32.sin());
        assert!((x[0] - c).abs() < 1e-6 && (x[2] - s).abs() < 1e-6, "{x:?}");
        assert!((x[3] - 0.01f32.cos()).abs() < 1e-6, "{x:?}");
        // Linear scaling by ½ turns position 2 like unscaled position 1.
        let (mut a, mut b) = ([1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0]);
        Rope::new(4, 10_000.0, 0.5, RopeStyle::Neox, 3).apply(&mut a, 4, 2);
        rope.apply(&mut b, 4, 1);
        assert_eq!(a, b);
    }

    #[test]
    fn gelu_gate_matches_known_values() {
        let mut g = [0.0, 1.0, -1.0, 3.0];
        gate_mul(&mut g, &[1.0, 1.0, 1.0, 2.0], Activation::Gelu);
        let want = [0.0, 0.841_192, -0.158_808, 2.0 * 2.996_363];
        for (a, b) in g.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{g:?}");
        }
    }

    #[test]
    fn rms_norm_scales_each_row_to_unit_rms() {
        let x = [3.0, 4.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0];
        let mut out = [0.0; 8];
        rms_norm(&x, &[1.0; 4], 0.0, &mut out);
        let rms = |r: &[f32]| (r.iter().map(|v| v * v).sum::<f32>() / 4.0).sqrt();
        assert!((rms(&out[..4]) - 1.0).abs() < 1e-6);
        assert!((rms(&out[4..]) - 1.0).abs() < 1e-6);
    }
}
