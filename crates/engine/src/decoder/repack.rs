//! Other GGUF block types rewritten, without loss, into our kernels' layouts
//! ([`W8`]: d · q with signed 8-bit q; [`W4`]: d · q + m with 4-bit q; [`W6`]:
//! [`W8`] with a scale per 16 values; [`W5`]: d · q + m with 5-bit q), so they
//! run on our AVX2 kernels instead of candle's (which has no SIMD path for
//! Q5_0 or Q4_0 rows in a batch, and unpacks a K-quant super-block per dot
//! product). Gemma 3 270M Q4_K_M keeps most projections in Q5_0, its attention
//! output in Q4_K and half its FFN down projections in Q6_K; Q4_K_M files of
//! other models mix Q4_K and Q6_K, Q5_K_M files Q5_K and Q6_K.
//!
//! - Q4_0 (d, 4-bit q − 8) and Q5_0 (d, 5-bit q − 16): integers that fit i8, same d.
//! - Q4_K and Q5_K: eight 32-value sub-blocks per 256, each `d·sc · q − dmin·m`
//!   with 6-bit sc and m: one [`W4`] or [`W5`] per sub-block with d = d·sc and
//!   m = −dmin·m, the products ggml's own dequantization forms.
//! - Q6_K: sixteen 16-value sub-blocks per 256, each `d·sc · (q − 32)` with
//!   an 8-bit signed sc: one [`W6`] per pair of sub-blocks.

use half::f16;

use super::kernels::{W4, W5, W6, W8};

fn f16_at(b: &[u8], i: usize) -> f32 {
    f16::from_le_bytes([b[i], b[i + 1]]).to_f32()
}

/// GGUF Q4_0 blocks (f16 d, 16 bytes of nibbles) as [`W8`].
pub fn w8_from_q4_0(bytes: &[u8]) -> Vec<W8> {
    bytes
        .chunks_exact(18)
        .map(|b| {
            let qs = &b[2..18];
            W8::new(
                f16_at(b, 0),
                std::array::from_fn(|i| match i < 16 {
                    true => (qs[i] & 0x0F) as i8 - 8,
                    false => (qs[i - 16] >> 4) as i8 - 8,
                }),
            )
        })
        .collect()
}

/// GGUF Q5_0 blocks (f16 d, 32 high bits, 16 bytes of nibbles) as [`W8`].
pub fn w8_from_q5_0(bytes: &[u8]) -> Vec<W8> {
    bytes
        .chunks_exact(22)
        .map(|b| {
            let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
            let qs = &b[6..22];
            W8::new(
                f16_at(b, 0),
                std::array::from_fn(|i| {
                    let low = match i < 16 {
                        true => qs[i] & 0x0F,
                        false => qs[i - 16] >> 4,
                    };
                    let high = ((qh >> i) & 1) as u8;
                    (low | high << 4) as i8 - 16
                }),
            )
        })
        .collect()
}

/// The 6-bit scale and min of sub-block `j` (ggml's `get_scale_min_k4`).
fn scale_min(j: usize, s: &[u8]) -> (u8, u8) {
    if j < 4 {
        (s[j] & 63, s[j + 4] & 63)
    } else {
        (
            (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4),
            (s[j + 4] >> 4) | ((s[j] >> 6) << 4),
        )
    }
}

/// The eight 32-value sub-blocks of each Q4_K or Q5_K super-block of `size`
/// bytes (f16 d, f16 dmin, 12 bytes of scales, then the type's own bytes),
/// in order: `f(super-block, j, d·sc, −dmin·m, nibble)` where `nibble(l)` is
/// value l's low four bits (64 values per 32 bytes of the last 128: the low
/// nibbles, then the high ones).
fn k_sub_blocks<T>(
    bytes: &[u8],
    size: usize,
    mut f: impl FnMut(&[u8], usize, f32, f32, &dyn Fn(usize) -> u8) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(bytes.len() / size * 8);
    for b in bytes.chunks_exact(size) {
        let (d, dmin) = (f16_at(b, 0), f16_at(b, 2));
        let scales = &b[4..16];
        for (chunk, q) in b[size - 128..].chunks_exact(32).enumerate() {
            for (half, shift) in [(0, 0u8), (1, 4u8)] {
                let j = 2 * chunk + half;
                let (sc, m) = scale_min(j, scales);
                let nibble = |l: usize| (q[l] >> shift) & 0x0F;
                out.push(f(b, j, d * sc as f32, -(dmin * m as f32), &nibble));
            }
        }
    }
    out
}

/// GGUF Q4_K super-blocks (144 bytes: 128 of nibbles) as eight [`W4`] each.
pub fn w4_from_q4_k(bytes: &[u8]) -> Vec<W4> {
    k_sub_blocks(bytes, 144, |_, _, d, m, v| {
        W4::new(d, m, std::array::from_fn(|j| v(j) | v(j + 16) << 4))
    })
}

/// GGUF Q5_K super-blocks (176 bytes: 32 of high bits, 128 of nibbles) as
/// eight [`W5`] each; sub-block j takes its fifth bit from bit j of each
/// high-bit byte.
pub fn w5_from_q5_k(bytes: &[u8]) -> Vec<W5> {
    k_sub_blocks(bytes, 176, |b, j, d, m, v| {
        let qh = &b[16..48];
        W5::new(
            d,
            m,
            std::array::from_fn(|l| v(l) | ((qh[l] >> j) & 1) << 4),
        )
    })
}

/// GGUF Q6_K super-blocks (128 bytes of low nibbles, 64 of high bit pairs,
/// 16 signed scales, f16 d) as eight [`W6`] each.
pub fn w6_from_q6_k(bytes: &[u8]) -> Vec<W6> {
    let mut out = Vec::with_capacity(bytes.len() / 210 * 8);
    for b in bytes.chunks_exact(210) {
        let (ql, qh, scales) = (&b[0..128], &b[128..192], &b[192..208]);
        let d = f16_at(b, 208);
        // Two halves of 128 values; in each, value 32·k + l (k < 4, l < 32)
        // takes nibble k / 2 of ql[64·half + 32·(k % 2) + l] and bit pair k
        // of qh[32·half + l].
        let value = |i: usize| {
            let (half, k, l) = (i / 128, i % 128 / 32, i % 32);
            let low = (ql[64 * half + 32 * (k % 2) + l] >> (4 * (k / 2))) & 0x0F;
            let high = (qh[32 * half + l] >> (2 * k)) & 3;
            (low | high << 4) as i8 - 32
        };
        for block in 0..8 {
            let scale = |s: usize| d * scales[2 * block + s] as i8 as f32;
            out.push(W6::new(
                [scale(0), scale(1)],
                std::array::from_fn(|i| value(32 * block + i)),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::kernels::{w4_row, w5_row, w6_row, w8_row};
    use super::*;
    use candle_core::quantized::k_quants::{
        BlockQ4K, BlockQ4_0, BlockQ5K, BlockQ5_0, BlockQ6K, GgmlType,
    };

    /// Deterministic bytes covering every bit pattern of every field.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    /// Blocks of `size` bytes with f16 scales at `scales` set to `values`
    /// (edge cases: zero, negative, tiny, large) and random payloads.
    fn blocks(count: usize, size: usize, scales: &[usize], seed: u64) -> Vec<u8> {
        let values = [0.0f32, 1.0, -0.75, 6.1e-5, 3.5, -1234.0, 0.013, 65504.0];
        let mut bytes = noise(count * size, seed);
        for (i, b) in bytes.chunks_exact_mut(size).enumerate() {
            for (k, &at) in scales.iter().enumerate() {
                let v = f16::from_f32(values[(i + 3 * k) % values.len()]);
                b[at..at + 2].copy_from_slice(&v.to_le_bytes());
            }
        }
        bytes
    }

    /// candle's dequantization of `bytes` as blocks of `T`.
    fn reference<T: GgmlType + Clone>(bytes: &[u8], values: usize) -> Vec<f32> {
        let size = std::mem::size_of::<T>();
        let typed: Vec<T> = bytes
            .chunks_exact(size)
            // SAFETY: every GGML block type is `repr(C)` plain data, and
            // read_unaligned copies it out of the byte slice.
            .map(|c| unsafe { std::ptr::read_unaligned(c.as_ptr() as *const T) })
            .collect();
        let mut out = vec![0f32; values];
        T::to_float(&typed, &mut out);
        out
    }

    fn assert_same(ours: &[f32], theirs: &[f32], what: &str) {
        for (i, (a, b)) in ours.iter().zip(theirs).enumerate() {
            let close = a == b || (a - b).abs() <= 1e-6 * b.abs().max(1.0);
            assert!(close, "{what}: value {i}: ours {a}, candle {b}");
        }
    }

    #[test]
    fn q4_0_and_q5_0_become_w8_blocks_with_the_same_values() {
        let n = 64;
        let q4 = blocks(n, 18, &[0], 1);
        let mut ours = vec![0f32; n * 32];
        w8_row(&w8_from_q4_0(&q4), &mut ours);
        assert_same(&ours, &reference::<BlockQ4_0>(&q4, n * 32), "Q4_0");

        let q5 = blocks(n, 22, &[0], 2);
        w8_row(&w8_from_q5_0(&q5), &mut ours);
        assert_same(&ours, &reference::<BlockQ5_0>(&q5, n * 32), "Q5_0");
    }

    #[test]
    fn q4_k_becomes_eight_w4_blocks_per_super_block_with_the_same_values() {
        let n = 32;
        // d and dmin both take the edge values, scales and mins every 6-bit value.
        let q4k = blocks(n, 144, &[0, 2], 3);
        let mut ours = vec![0f32; n * 256];
        w4_row(&w4_from_q4_k(&q4k), &mut ours);
        assert_same(&ours, &reference::<BlockQ4K>(&q4k, n * 256), "Q4_K");
    }

    #[test]
    fn q5_k_and_q6_k_become_eight_blocks_per_super_block_with_the_same_values() {
        let n = 32;
        let q5k = blocks(n, 176, &[0, 2], 4);
        let mut ours = vec![0f32; n * 256];
        w5_row(&w5_from_q5_k(&q5k), &mut ours);
        assert_same(&ours, &reference::<BlockQ5K>(&q5k, n * 256), "Q5_K");

        // d takes the edge values; the signed scales and the 6-bit q every value.
        let q6k = blocks(n, 210, &[208], 5);
        w6_row(&w6_from_q6_k(&q6k), &mut ours);
        assert_same(&ours, &reference::<BlockQ6K>(&q6k, n * 256), "Q6_K");
    }
}
