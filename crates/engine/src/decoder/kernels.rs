//! Over 500 lines: four weight block types share one macro-generated set of
//! AVX2 and VNNI kernels, with their tests; splitting them would split the macro.
//!
//! AVX2 dot products for our four weight block layouts, after ggml's
//! `ggml_vec_dot_q4_1_q8_1` and `ggml_vec_dot_q8_0_q8_0`: Q4_1 and Q8_0 as
//! GGUF stores them, and the other types rewritten into them or into the two
//! layouts K-quants need ([`super::repack`]).
//!
//! candle 0.11 computes Q4_1 with its scalar fallback. Beyond SIMD, two
//! things make these faster than candle's kernels in a batch: block scales
//! are stored as f32 (converted once, not per dot product), and one weight
//! row is unpacked once and then multiplied with up to [`ROWS`] activation
//! rows, which is where continuous batching gains its throughput.

use std::ops::Range;

use half::f16;

/// Activation rows one weight row is unpacked for.
pub const ROWS: usize = 8;
/// Values per block in every layout.
pub const BLOCK: usize = 32;

/// A Q4_1 weight block: value = d · q + m, q in 0..16.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct W4 {
    pub(super) d: f32,
    pub(super) m: f32,
    /// Value j (< 16) in the low nibble of byte j, value j + 16 in its high nibble.
    pub(super) qs: [u8; 16],
}

/// A Q8_0 weight block: value = d · q.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct W8 {
    pub(super) d: f32,
    pub(super) qs: [i8; 32],
}

/// A Q6_K sub-block pair: value = d[0] · q for the first 16 values, d[1] · q
/// for the last 16, q in −32..32.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct W6 {
    pub(super) d: [f32; 2],
    pub(super) qs: [i8; 32],
}

/// A Q5_K sub-block: value = d · q + m, q in 0..32.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct W5 {
    pub(super) d: f32,
    pub(super) m: f32,
    pub(super) qs: [u8; 32],
}

impl W6 {
    pub fn new(d: [f32; 2], qs: [i8; 32]) -> Self {
        Self { d, qs }
    }
}

impl W5 {
    pub fn new(d: f32, m: f32, qs: [u8; 32]) -> Self {
        Self { d, m, qs }
    }
}

impl W4 {
    /// Value j (< 16) of the block in the low nibble of `qs[j]`, value j + 16 in its high nibble.
    pub fn new(d: f32, m: f32, qs: [u8; 16]) -> Self {
        Self { d, m, qs }
    }
}

impl W8 {
    pub fn new(d: f32, qs: [i8; 32]) -> Self {
        Self { d, qs }
    }
}

/// An activation block (ggml's Q8_1): value = d · q, and s = d · Σq for the
/// Q4_1 offset term.
#[derive(Clone, Copy, Default)]
#[repr(C)]
pub struct A8 {
    pub(super) d: f32,
    pub(super) s: f32,
    pub(super) qs: [i8; 32],
}

/// Whether the CPU also has VNNI (the kernels then use it).
pub fn vnni() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        x86::vnni()
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether this CPU runs the kernels (x86-64 with AVX2 and FMA).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Reads GGUF Q4_1 blocks (f16 d, f16 m, 16 bytes).
pub fn w4_from_gguf(bytes: &[u8]) -> Vec<W4> {
    bytes
        .chunks_exact(20)
        .map(|b| W4 {
            d: f16::from_le_bytes([b[0], b[1]]).to_f32(),
            m: f16::from_le_bytes([b[2], b[3]]).to_f32(),
            qs: b[4..20].try_into().expect("20-byte block"),
        })
        .collect()
}

/// Reads GGUF Q8_0 blocks (f16 d, 32 signed bytes).
pub fn w8_from_gguf(bytes: &[u8]) -> Vec<W8> {
    bytes
        .chunks_exact(34)
        .map(|b| W8 {
            d: f16::from_le_bytes([b[0], b[1]]).to_f32(),
            qs: std::array::from_fn(|i| b[2 + i] as i8),
        })
        .collect()
}

pub fn w4_row(blocks: &[W4], out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        for j in 0..16 {
            o[j] = b.d * (b.qs[j] & 0x0F) as f32 + b.m;
            o[j + 16] = b.d * (b.qs[j] >> 4) as f32 + b.m;
        }
    }
}

pub fn w8_row(blocks: &[W8], out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        for (o, &q) in o.iter_mut().zip(&b.qs) {
            *o = b.d * q as f32;
        }
    }
}

pub fn w6_row(blocks: &[W6], out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        for (i, (o, &q)) in o.iter_mut().zip(&b.qs).enumerate() {
            *o = b.d[i / 16] * q as f32;
        }
    }
}

pub fn w5_row(blocks: &[W5], out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        for (o, &q) in o.iter_mut().zip(&b.qs) {
            *o = b.d * q as f32 + b.m;
        }
    }
}

/// 1/d, or 0 where that is not finite (d is 0, or so small that 1/d
/// overflows). ggml's `quantize_row_q8_1` checks only d = 0; a block of
/// values below ~4e-37 then gave infinite quotients, which the two
/// quantizers turned into different bytes, −128 among them (outside the
/// ±127 the AVX2 sign trick relies on). Such a block is now all zeros.
fn inverse(d: f32) -> f32 {
    let id = 1.0 / d;
    if id.is_finite() {
        id
    } else {
        0.0
    }
}

/// Quantizes 32 activations (ggml's `quantize_row_q8_1`, one block).
fn quantize_block(xs: &[f32]) -> A8 {
    let amax = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let id = inverse(d);
    let mut a = A8 { d, ..A8::default() };
    let mut sum = 0i32;
    for (q, &v) in a.qs.iter_mut().zip(xs) {
        // |v · id| ≤ 127; round half away from zero, as ggml's roundf.
        let t = v * id;
        *q = (t + 0.5f32.copysign(t)) as i8;
        sum += *q as i32;
    }
    a.s = d * sum as f32;
    a
}

/// Quantizes a group of up to [`ROWS`] activation rows (`x`, rows of `cols`)
/// in the order the kernels read them: block b of row r at `b · n + r` (n
/// rows in the group), so that the blocks one weight block meets are
/// neighbours. [`quantize_rows`] cuts the groups.
pub fn quantize_group(x: &[f32], cols: usize, out: &mut [A8]) {
    let n = x.len() / cols;
    assert!(n <= ROWS && out.len() * BLOCK == x.len());
    let simd = available();
    for (r, row) in x.chunks_exact(cols).enumerate() {
        for (b, xs) in row.chunks_exact(BLOCK).enumerate() {
            out[b * n + r] = match xs.try_into() {
                // SAFETY: `available()`: the CPU has AVX2 and FMA.
                #[cfg(target_arch = "x86_64")]
                Ok(xs) if simd => unsafe { x86::quantize_block(xs) },
                _ => quantize_block(xs),
            };
        }
    }
}

/// Quantizes activation rows (`x`, rows of `cols`) for [`matmul`]: groups of
/// [`ROWS`] rows (the last one shorter), each as [`quantize_group`] lays it.
pub fn quantize_rows(x: &[f32], cols: usize) -> Acts {
    let mut out = vec![A8::default(); x.len() / BLOCK];
    for (q, group) in out
        .chunks_mut(ROWS * cols / BLOCK)
        .zip(x.chunks(ROWS * cols))
    {
        quantize_group(group, cols, q);
    }
    Acts::new(out)
}

/// Quantized activation rows in the kernels' order ([`quantize_rows`]), with
/// each block's `s` again in `sums` (same index, then [`ROWS`] zeros), so that
/// a kernel loads the sums of a group's rows for one block at once.
pub struct Acts {
    blocks: Vec<A8>,
    sums: Vec<f32>,
    /// Each block's integer Σq (same index).
    isums: Vec<i32>,
    /// The same over its first and last 16 values.
    half_sums: Vec<[i32; 2]>,
}

impl Acts {
    /// `blocks` as [`quantize_group`] lays them out, group after group.
    pub fn new(blocks: Vec<A8>) -> Self {
        let mut sums: Vec<f32> = blocks.iter().map(|a| a.s).collect();
        sums.extend([0.0; ROWS]);
        let half = |h: &[i8]| h.iter().map(|&q| q as i32).sum();
        let half_sums: Vec<[i32; 2]> = blocks
            .iter()
            .map(|a| [half(&a.qs[..16]), half(&a.qs[16..])])
            .collect();
        let isums = half_sums.iter().map(|[lo, hi]| lo + hi).collect();
        Self {
            blocks,
            sums,
            isums,
            half_sums,
        }
    }

    pub(super) fn blocks(&self) -> &[A8] {
        &self.blocks
    }

    pub(super) fn isums(&self) -> &[i32] {
        &self.isums
    }

    pub(super) fn half_sums(&self) -> &[[i32; 2]] {
        &self.half_sums
    }

    /// Blocks held (rows × blocks per row).
    pub fn len(&self) -> usize {
        self.blocks.len()
    }
}

/// A weight block type of our kernels ([`W4`], [`W8`]).
pub trait Weight: Sync {
    /// The products of weight rows `js` with every activation row.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA ([`available`]); the bounds [`matmul`]
    /// asserts hold.
    unsafe fn rows(
        w: &[Self],
        per_row: usize,
        js: Range<usize>,
        acts: &Acts,
        out: &mut impl FnMut(usize, usize, f32),
    ) where
        Self: Sized;
}

/// [`Weight`] for `$w` through the row loop `$rows`, VNNI where the CPU has it.
macro_rules! weight {
    ($w:ty, $rows:ident) => {
        impl Weight for $w {
            unsafe fn rows(
                w: &[Self],
                per_row: usize,
                js: Range<usize>,
                acts: &Acts,
                out: &mut impl FnMut(usize, usize, f32),
            ) {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the caller's contract; VNNI is checked here.
                unsafe {
                    if x86::vnni() {
                        x86::vnni::$rows(w, per_row, js, acts, out)
                    } else {
                        x86::avx2::$rows(w, per_row, js, acts, out)
                    }
                }
            }
        }
    };
}
weight!(W4, rows_w4);
weight!(W8, rows_w8);
weight!(W6, rows_w6);
weight!(W5, rows_w5);

/// Multiplies weight rows `js` (each `per_row` blocks of `w`) with every
/// activation row of `acts` (rows of `per_row` blocks, laid out by
/// [`quantize_rows`]), handing each
/// product to `out(activation row, weight row, value)`. Only call where
/// [`available`] is true.
pub fn matmul<W: Weight>(
    w: &[W],
    per_row: usize,
    js: Range<usize>,
    acts: &Acts,
    out: &mut impl FnMut(usize, usize, f32),
) {
    assert!(per_row > 0 && js.end * per_row <= w.len() && acts.len().is_multiple_of(per_row));
    assert_eq!(acts.sums.len(), acts.blocks.len() + ROWS);
    // SAFETY: callers check `available()`; bounds are asserted above.
    unsafe { W::rows(w, per_row, js, acts, out) }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{Acts, A8, ROWS, W4, W5, W6, W8};
    use std::arch::x86_64::*;
    use std::ops::Range;

    /// Whether the CPU has VNNI (one instruction for the u8 × i8 → i32 dot
    /// of four bytes). Its integer sums equal AVX2's: no pair of products
    /// here reaches AVX2's i16 saturation (15 · 127 · 2, 31 · 127 · 2 and
    /// 128 · 127 · 2 are below 2^15), so the two paths give the same bits.
    pub fn vnni() -> bool {
        std::is_x86_feature_detected!("avx512vnni") && std::is_x86_feature_detected!("avx512vl")
    }

    #[target_feature(enable = "avx2,fma")]
    fn hsum(v: __m256) -> f32 {
        let half = _mm_add_ps(_mm256_extractf128_ps(v, 1), _mm256_castps256_ps128(v));
        let quad = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(quad, _mm_movehdup_ps(quad)))
    }

    /// `$name(w, per_row, js, acts, out)`: `$dot` of the weight rows in `js`,
    /// `$m` at a time (each activation block loaded once for all of them),
    /// with groups of up to [`ROWS`] activation rows.
    macro_rules! rows {
        ($name:ident, $dot:ident, $w:ty, $features:literal, $m:literal, $n:literal) => {
            #[target_feature(enable = $features)]
            pub unsafe fn $name(
                w: &[$w],
                per_row: usize,
                js: Range<usize>,
                acts: &Acts,
                out: &mut impl FnMut(usize, usize, f32),
            ) {
                let row = |j: usize| &w[j * per_row..(j + 1) * per_row];
                let mut j = js.start;
                while j < js.end {
                    if js.end - j >= $m {
                        let ws: [&[$w]; $m] = std::array::from_fn(|i| row(j + i));
                        // SAFETY: same features as this function.
                        unsafe { tile!($dot, ws, acts, per_row, out, j, $n) };
                        j += $m;
                    } else {
                        // SAFETY: same features as this function.
                        unsafe { tile!($dot, [row(j)], acts, per_row, out, j, $n) };
                        j += 1;
                    }
                }
            }
        };
    }

    /// `$dot` of the weight rows `$ws` (from row `$j`) with every activation
    /// row, up to `$tile` rows (N, a constant for `$dot`) at a time.
    macro_rules! tile {
        ($dot:ident, $ws:expr, $acts:expr, $per_row:expr, $out:expr, $j:expr, $tile:expr) => {
            groups($acts, $per_row, |r, (group, sums), n| {
                let mut first = 0;
                while first < n {
                    let g = (group, sums, n, first);
                    let (out, r) = (&mut *$out, r + first);
                    match (n - first).min($tile) {
                        1 => emit(out, r, $j, &$dot::<_, 1>($ws, g)),
                        2 => emit(out, r, $j, &$dot::<_, 2>($ws, g)),
                        3 => emit(out, r, $j, &$dot::<_, 3>($ws, g)),
                        4 => emit(out, r, $j, &$dot::<_, 4>($ws, g)),
                        5 => emit(out, r, $j, &$dot::<_, 5>($ws, g)),
                        6 => emit(out, r, $j, &$dot::<_, 6>($ws, g)),
                        7 => emit(out, r, $j, &$dot::<_, 7>($ws, g)),
                        _ => emit(out, r, $j, &$dot::<_, 8>($ws, g)),
                    }
                    first += $tile;
                }
            })
        };
    }

    /// The four kernels, compiled for one set of CPU features: `$m` weight
    /// rows by up to `$n` activation rows at a time (as many accumulators as
    /// the registers hold), `$idot` the sum of
    /// byte products (u8 × i8) in each of eight i32 lanes, and `$signed` the
    /// same for two signed operands, as (per weight block, per activation
    /// block, per pair).
    macro_rules! kernels {
        ($module:ident, $features:literal, $m:literal, $n:literal, $idot:expr, $signed:expr) => {
            pub mod $module {
                use super::*;

                rows!(rows_w4, dot_w4, W4, $features, $m, $n);
                rows!(rows_w8, dot_w8, W8, $features, $m, $n);
                rows!(rows_w6, dot_w6, W6, $features, $m, $n);
                rows!(rows_w5, dot_w5, W5, $features, $m, $n);

                offset_dot!(dot_w4, W4, $features, $idot, |x: &W4| {
                    let packed = unsafe { _mm_loadu_si128(x.qs.as_ptr() as *const __m128i) };
                    let low = _mm_set1_epi8(0x0F);
                    let lo = _mm_and_si128(packed, low);
                    let hi = _mm_and_si128(_mm_srli_epi16(packed, 4), low);
                    _mm256_set_m128i(hi, lo)
                });
                offset_dot!(dot_w5, W5, $features, $idot, |x: &W5| unsafe {
                    _mm256_loadu_si256(x.qs.as_ptr() as *const __m256i)
                });
                signed_dot!(dot_w8, W8, $features, $signed, |x: &W8| _mm256_set1_ps(x.d));
                // The byte dot's i32 lanes 0..4 sum bytes 0..16, lanes 4..8
                // bytes 16..32: the two halves' scales in the two halves.
                signed_dot!(dot_w6, W6, $features, $signed, |x: &W6| {
                    _mm256_set_m128(_mm_set1_ps(x.d[1]), _mm_set1_ps(x.d[0]))
                });
            }
        };
    }

    // The dot products of M weight rows with N activation rows at once (a
    // group laid out by `quantize_group`), M and N constants so
    // that the accumulators stay in registers. Each row's sums run in the
    // same order whatever M and N are: block by block, scale x.d · y.d
    // (one f32 product) times the block's integer sum, added by one FMA.

    /// `$name`: d · q + m blocks ([`W4`], [`W5`]) whose unsigned bytes
    /// `$unpack(x)` gives; the m term through each activation block's sum.
    macro_rules! offset_dot {
        ($name:ident, $w:ty, $features:literal, $idot:expr, $unpack:expr) => {
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn $name<const M: usize, const N: usize>(
                w: [&[$w]; M],
                (acts, sums, rows, first): (&[A8], &[f32], usize, usize),
            ) -> [[f32; N]; M] {
                let len = w[0].len();
                assert!(first + N <= rows && acts.len() >= rows * len);
                assert!(sums.len() >= acts.len() + ROWS && N <= ROWS);
                assert!(w.iter().all(|w| w.len() == len));
                let base = acts[first..].as_ptr();
                let sums = sums[first..].as_ptr();
                let mut acc = [[_mm256_setzero_ps(); N]; M];
                // The m terms of all N rows in one register per weight row:
                // lane r sums m · s of row r, block by block.
                let mut offsets = [_mm256_setzero_ps(); M];
                for b in 0..len {
                    let xs: [&$w; M] = std::array::from_fn(|i| &w[i][b]);
                    prefetch(xs[M - 1]);
                    let qx: [__m256i; M] = std::array::from_fn(|i| $unpack(xs[i]));
                    let xd: [__m256; M] = std::array::from_fn(|i| _mm256_set1_ps(xs[i].d));
                    // SAFETY: first + b · rows + 8 <= acts.len() + ROWS <= the
                    // sums' length (asserted above).
                    let ys = unsafe { _mm256_loadu_ps(sums.add(b * rows)) };
                    for i in 0..M {
                        let m = _mm256_mul_ps(_mm256_set1_ps(xs[i].m), ys);
                        offsets[i] = _mm256_add_ps(offsets[i], m);
                    }
                    for r in 0..N {
                        // SAFETY: first + b · rows + r < rows · len <= acts.len()
                        // (asserted above).
                        let y = unsafe { &*base.add(b * rows + r) };
                        let qy = unsafe { _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i) };
                        let yd = _mm256_broadcast_ss(&y.d);
                        for i in 0..M {
                            let sums = $idot(qx[i], qy);
                            let scale = _mm256_mul_ps(xd[i], yd);
                            acc[i][r] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(sums), acc[i][r]);
                        }
                    }
                }
                // Plain loops: a closure here took the accumulators' address,
                // and they went through memory after every FMA.
                let mut out = [[0f32; N]; M];
                for i in 0..M {
                    // SAFETY: a __m256 is eight f32.
                    let offsets: [f32; 8] = unsafe { std::mem::transmute(offsets[i]) };
                    for r in 0..N {
                        out[i][r] = hsum(acc[i][r]) + offsets[r];
                    }
                }
                out
            }
        };
    }

    /// `$name`: blocks of 32 signed bytes ([`W8`], [`W6`]) with the lane
    /// scales `$scale(x)` (times the activation block's d); `$signed` is
    /// (prepare a weight block, prepare an activation block, byte dot).
    macro_rules! signed_dot {
        ($name:ident, $w:ty, $features:literal, $signed:expr, $scale:expr) => {
            #[target_feature(enable = $features)]
            #[inline]
            unsafe fn $name<const M: usize, const N: usize>(
                w: [&[$w]; M],
                (acts, _, rows, first): (&[A8], &[f32], usize, usize),
            ) -> [[f32; N]; M] {
                let (prepare_x, prepare_y, dot) = $signed;
                let len = w[0].len();
                assert!(first + N <= rows && acts.len() >= rows * len);
                assert!(w.iter().all(|w| w.len() == len));
                let base = acts[first..].as_ptr();
                let mut acc = [[_mm256_setzero_ps(); N]; M];
                for b in 0..len {
                    let xs: [&$w; M] = std::array::from_fn(|i| &w[i][b]);
                    prefetch(xs[M - 1]);
                    let qx: [(__m256i, __m256i); M] = std::array::from_fn(|i| {
                        prepare_x(unsafe {
                            _mm256_loadu_si256(xs[i].qs.as_ptr() as *const __m256i)
                        })
                    });
                    let xd: [__m256; M] = std::array::from_fn(|i| $scale(xs[i]));
                    for r in 0..N {
                        // SAFETY: first + b · rows + r < rows · len <= acts.len()
                        // (asserted above).
                        let y = unsafe { &*base.add(b * rows + r) };
                        let qy = prepare_y(unsafe {
                            _mm256_loadu_si256(y.qs.as_ptr() as *const __m256i)
                        });
                        let yd = _mm256_broadcast_ss(&y.d);
                        for i in 0..M {
                            let sums = dot(qx[i], qy);
                            let scale = _mm256_mul_ps(xd[i], yd);
                            acc[i][r] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(sums), acc[i][r]);
                        }
                    }
                }
                let mut out = [[0f32; N]; M];
                for i in 0..M {
                    for r in 0..N {
                        out[i][r] = hsum(acc[i][r]);
                    }
                }
                out
            }
        };
    }

    // AVX2 has no u8 × i8 dot without i16 pairs: the signed dot takes |x|
    // and y with x's sign. One weight row at a time: 16 registers.
    kernels!(
        avx2,
        "avx2,fma",
        1,
        8,
        |a, b| _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)),
        (
            |qx: __m256i| (_mm256_sign_epi8(qx, qx), qx),
            |qy: __m256i| qy,
            |(ax, qx): (__m256i, __m256i), qy: __m256i| _mm256_madd_epi16(
                _mm256_maddubs_epi16(ax, _mm256_sign_epi8(qy, qx)),
                _mm256_set1_epi16(1)
            )
        )
    );
    // VNNI sums in i32 at once, so the signed dot can shift y to unsigned
    // (y + 128, a flip of the top bit) and start from −128 · Σx, once per
    // weight block: Σ (y + 128) · x − 128 · Σx = Σ x · y, the same integer.
    // Two weight rows at a time: AVX-512VL has 32 registers.
    kernels!(
        vnni,
        "avx2,fma,avx512vnni,avx512vl",
        2,
        8,
        |a, b| _mm256_dpbusd_epi32(_mm256_setzero_si256(), a, b),
        (
            |qx: __m256i| {
                let shift = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(-128), qx);
                (qx, _mm256_sub_epi32(_mm256_setzero_si256(), shift))
            },
            |qy: __m256i| _mm256_xor_si256(qy, _mm256_set1_epi8(-128)),
            |(qx, start): (__m256i, __m256i), qy: __m256i| _mm256_dpbusd_epi32(start, qy, qx)
        )
    );

    /// [`super::quantize_block`] in registers, bit for bit: the same
    /// maximum, products, rounding and integer sum (ggml's AVX2
    /// `quantize_row_q8_1`).
    #[target_feature(enable = "avx2,fma")]
    pub fn quantize_block(xs: &[f32; 32]) -> A8 {
        let p = xs.as_ptr();
        // SAFETY: xs holds 32 floats.
        let v: [__m256; 4] = std::array::from_fn(|i| unsafe { _mm256_loadu_ps(p.add(8 * i)) });
        let sign = _mm256_set1_ps(-0.0);
        let abs = v.map(|x| _mm256_andnot_ps(sign, x));
        let m = _mm256_max_ps(_mm256_max_ps(abs[0], abs[1]), _mm256_max_ps(abs[2], abs[3]));
        let m = _mm_max_ps(_mm256_extractf128_ps(m, 1), _mm256_castps256_ps128(m));
        let m = _mm_max_ps(m, _mm_movehl_ps(m, m));
        let amax = _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
        let d = amax / 127.0;
        let id = _mm256_set1_ps(super::inverse(d));
        let half = _mm256_set1_ps(0.5);
        // t + copysign(0.5, t), truncated: round half away from zero.
        let q = v.map(|x| {
            let t = _mm256_mul_ps(x, id);
            _mm256_cvttps_epi32(_mm256_add_ps(t, _mm256_or_ps(_mm256_and_ps(t, sign), half)))
        });
        let sums = _mm256_add_epi32(_mm256_add_epi32(q[0], q[1]), _mm256_add_epi32(q[2], q[3]));
        let sums = _mm_add_epi32(
            _mm256_extracti128_si256(sums, 1),
            _mm256_castsi256_si128(sums),
        );
        let sums = _mm_add_epi32(sums, _mm_unpackhi_epi64(sums, sums));
        let sum = _mm_cvtsi128_si32(_mm_add_epi32(sums, _mm_shuffle_epi32(sums, 1)));
        // The packs interleave 128-bit halves; the permutation restores order.
        let packed = _mm256_packs_epi16(
            _mm256_packs_epi32(q[0], q[1]),
            _mm256_packs_epi32(q[2], q[3]),
        );
        let ordered =
            _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        let mut a = A8 {
            d,
            s: d * sum as f32,
            qs: [0; 32],
        };
        // SAFETY: qs is 32 bytes.
        unsafe { _mm256_storeu_si256(a.qs.as_mut_ptr() as *mut __m256i, ordered) };
        a
    }

    /// Asks for the weights `PREFETCH` bytes past `x` (the rows a task reads
    /// follow each other): a decode step reads every weight once, from
    /// memory, and the hardware prefetcher alone left the kernel waiting.
    #[inline(always)]
    fn prefetch<T>(x: &T) {
        const PREFETCH: usize = 4096;
        let ahead = (x as *const T as *const i8).wrapping_add(PREFETCH);
        // SAFETY: a prefetch is a hint; it never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead) };
    }

    /// Calls `f(first row, rows, count)` for groups of up to [`ROWS`]
    /// activation rows.
    #[inline(always)]
    fn groups(acts: &Acts, per_row: usize, mut f: impl FnMut(usize, (&[A8], &[f32]), usize)) {
        let n = acts.len() / per_row;
        let mut r = 0;
        while r < n {
            let m = (n - r).min(ROWS);
            let at = r * per_row;
            f(r, (&acts.blocks[at..], &acts.sums[at..]), m);
            r += m;
        }
    }

    /// Hands `values[i][k]` (weight row j + i, activation row r + k) to `out`.
    #[inline(always)]
    fn emit<const M: usize, const N: usize>(
        out: &mut impl FnMut(usize, usize, f32),
        r: usize,
        j: usize,
        values: &[[f32; N]; M],
    ) {
        for (i, row) in values.iter().enumerate() {
            for (k, &v) in row.iter().enumerate() {
                out(r + k, j + i, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seed: usize, k: usize) -> Vec<f32> {
        (0..k)
            .map(|i| (((i + seed) * 37 % 101) as f32 - 50.0) / 40.0)
            .collect()
    }

    fn act(x: &[f32]) -> Acts {
        quantize_rows(x, x.len())
    }

    /// The first `n` rows of `xs`, repeated, as the kernels' activations.
    fn acts(xs: &[Vec<f32>], n: usize) -> Acts {
        let x: Vec<f32> = xs.iter().cycle().take(n).flatten().copied().collect();
        quantize_rows(&x, xs[0].len())
    }

    /// Q4_1 bytes of `x` (ggml's `quantize_row_q4_1`), to test the reader too.
    fn q4_1_bytes(x: &[f32]) -> Vec<u8> {
        let mut out = Vec::new();
        for xs in x.chunks_exact(BLOCK) {
            let min = xs.iter().cloned().fold(f32::INFINITY, f32::min);
            let max = xs.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
            let d = (max - min) / 15.0;
            let id = if d != 0.0 { 1.0 / d } else { 0.0 };
            out.extend(f16::from_f32(d).to_le_bytes());
            out.extend(f16::from_f32(min).to_le_bytes());
            for j in 0..16 {
                let q = |v: f32| (((v - min) * id + 0.5) as u8).min(15);
                out.push(q(xs[j]) | (q(xs[j + 16]) << 4));
            }
        }
        out
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn a_block_too_small_to_invert_quantizes_to_zeros_on_both_quantizers() {
        let mut xs = [0f32; 32];
        xs[3] = -1e-38;
        xs[7] = 2e-38;
        let a = quantize_block(&xs);
        assert!(a.qs.iter().all(|&q| q == 0), "{:?}", a.qs);
        #[cfg(target_arch = "x86_64")]
        if available() {
            // SAFETY: available() was checked.
            let b = unsafe { x86::quantize_block(&xs) };
            assert_eq!((a.d, a.s, a.qs), (b.d, b.s, b.qs));
        }
    }

    #[test]
    fn the_avx2_quantizer_gives_the_scalar_one_s_bits() {
        if !available() {
            return;
        }
        let mut blocks: Vec<[f32; 32]> = (0..200)
            .map(|s| {
                std::array::from_fn(|i| (((i + s) * 37 % 101) as f32 - 50.0) / (1.0 + s as f32))
            })
            .collect();
        blocks.push([0.0; 32]);
        blocks.push(std::array::from_fn(|i| if i == 5 { -3.0 } else { 1.5 }));
        // Exact halves of a step: rounding away from zero.
        blocks.push(std::array::from_fn(|i| {
            [127.0, -0.5, 0.5, 2.5, -2.5, 0.0][i % 6]
        }));
        for xs in &blocks {
            let (a, b) = (quantize_block(xs), unsafe { x86::quantize_block(xs) });
            assert_eq!(
                (a.d.to_bits(), a.s.to_bits(), a.qs),
                (b.d.to_bits(), b.s.to_bits(), b.qs),
                "{xs:?}"
            );
        }
    }

    #[test]
    fn q4_1_dot_products_match_the_dequantized_arithmetic_for_every_row_count() {
        if !available() {
            return;
        }
        let k = 256;
        let w = w4_from_gguf(&q4_1_bytes(&row(0, k)));
        let mut wf = vec![0f32; k];
        w4_row(&w, &mut wf);
        let xs: Vec<Vec<f32>> = (1..=ROWS).map(|s| row(s * 7, k)).collect();
        // Up to ROWS + 3 activation rows, so groups of every size occur.
        let per_row = k / BLOCK;
        for n in 1..=ROWS + 3 {
            let flat = acts(&xs, n);
            let mut out = vec![0f32; n];
            matmul(&w, per_row, 0..1, &flat, &mut |r, _, v| out[r] = v);
            for (r, &got) in out.iter().enumerate() {
                let exact: f32 = wf.iter().zip(&xs[r % ROWS]).map(|(a, b)| a * b).sum();
                assert!(
                    (got - exact).abs() < 0.02 * exact.abs().max(1.0),
                    "{got} vs {exact}"
                );
                // The same row alone gives the same bits.
                let mut alone = 0f32;
                let one = act(&xs[r % ROWS]);
                matmul(&w, per_row, 0..1, &one, &mut |_, _, v| alone = v);
                assert_eq!(alone.to_bits(), got.to_bits());
            }
        }
    }

    #[test]
    fn q8_0_dot_products_match_the_dequantized_arithmetic() {
        if !available() {
            return;
        }
        let k = 128;
        let x = row(3, k);
        let mut bytes = Vec::new();
        for xs in x.chunks_exact(BLOCK) {
            let d = xs.iter().fold(0f32, |m, v| m.max(v.abs())) / 127.0;
            bytes.extend(f16::from_f32(d).to_le_bytes());
            bytes.extend(xs.iter().map(|v| (v / d).round() as i8 as u8));
        }
        let w = w8_from_gguf(&bytes);
        let mut wf = vec![0f32; k];
        w8_row(&w, &mut wf);
        let y = row(11, k);
        let mut out = 0f32;
        matmul(&w, k / BLOCK, 0..1, &act(&y), &mut |_, _, v| out = v);
        let exact: f32 = wf.iter().zip(&y).map(|(a, b)| a * b).sum();
        assert!(
            (out - exact).abs() < 0.02 * exact.abs().max(1.0),
            "{out} vs {exact}"
        );
    }

    /// Checks `w` (one weight row of `k` values, `dequant` its f32 values)
    /// against the f32 arithmetic for 1 to ROWS + 3 activation rows, and that
    /// each row alone gives the same bits as in the batch.
    fn check_row<W: Weight>(w: &[W], dequant: &[f32], what: &str) {
        let k = dequant.len();
        let per_row = k / BLOCK;
        let xs: Vec<Vec<f32>> = (1..=ROWS).map(|s| row(s * 5, k)).collect();
        for n in 1..=ROWS + 3 {
            let flat = acts(&xs, n);
            let mut out = vec![0f32; n];
            matmul(w, per_row, 0..1, &flat, &mut |r, _, v| out[r] = v);
            for (r, &got) in out.iter().enumerate() {
                let x = &xs[r % ROWS];
                let exact: f32 = dequant.iter().zip(x).map(|(a, b)| a * b).sum();
                // Quantizing an activation moves it by at most half a step,
                // amax / 254; the kernel may differ from f32 by no more.
                let amax = x.iter().fold(0f32, |m, v| m.max(v.abs()));
                let bound: f32 = dequant.iter().map(|v| v.abs()).sum::<f32>() * amax / 254.0;
                assert!(
                    (got - exact).abs() <= bound * 1.01 + 1e-4 * exact.abs(),
                    "{what}: {got} vs {exact} (bound {bound})"
                );
                let mut alone = 0f32;
                let one = act(x);
                matmul(w, per_row, 0..1, &one, &mut |_, _, v| alone = v);
                assert_eq!(alone.to_bits(), got.to_bits(), "{what}");
            }
        }
    }

    /// W6 and W5 blocks with the edge values of their integers and scales.
    fn w6_w5(k: usize) -> (Vec<W6>, Vec<W5>) {
        let w6 = (0..k / BLOCK)
            .map(|b| {
                let d = [[0.0, 0.5], [-0.03, 1e-4], [2.0, -2.0]][b % 3];
                W6::new(
                    d,
                    std::array::from_fn(|i| [-32i8, 31, 0, -1, 7][(b + i) % 5]),
                )
            })
            .collect();
        let w5 = (0..k / BLOCK)
            .map(|b| {
                let (d, m) = [(0.02, -0.3), (0.0, 0.0), (-1.5, 4.0)][b % 3];
                W5::new(
                    d,
                    m,
                    std::array::from_fn(|i| [0u8, 31, 16, 1][(b * 3 + i) % 4]),
                )
            })
            .collect();
        (w6, w5)
    }

    #[test]
    fn w6_and_w5_dot_products_match_the_dequantized_arithmetic_for_every_row_count() {
        if !available() {
            return;
        }
        let k = 256;
        let (w6, w5) = w6_w5(k);
        let mut wf = vec![0f32; k];
        w6_row(&w6, &mut wf);
        assert_eq!((wf[0], wf[16], wf[32]), (0.0, 0.5 * 31.0, -0.03 * 31.0));
        check_row(&w6, &wf, "W6");
        w5_row(&w5, &mut wf);
        assert_eq!((wf[0], wf[1]), (0.02 * 0.0 - 0.3, 0.02 * 31.0 - 0.3));
        check_row(&w5, &wf, "W5");
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn the_vnni_and_avx2_kernels_give_the_same_bits() {
        if !available() || !x86::vnni() {
            return;
        }
        // Three weight rows (VNNI takes two at a time, then one alone) and
        // eleven activation rows (a group of eight, then three).
        let (k, wrows, arows) = (512, 3, 11);
        let per_row = k / BLOCK;
        let w4 = w4_from_gguf(&q4_1_bytes(
            &(0..wrows * k)
                .map(|i| ((i * 13 % 97) as f32 - 48.0) / 9.0)
                .collect::<Vec<_>>(),
        ));
        let mut w8_bytes = Vec::new();
        for i in 0..wrows * per_row {
            w8_bytes.extend(f16::from_f32(0.01 * (i + 1) as f32).to_le_bytes());
            // Extremes included: -128 and 127.
            w8_bytes.extend((0..BLOCK).map(|j| [128u8, 127, 3, 250][(i + j) % 4]));
        }
        let w8 = w8_from_gguf(&w8_bytes);
        let acts = acts(
            &(0..arows).map(|r| row(r * 3, k)).collect::<Vec<_>>(),
            arows,
        );
        let (w6, w5) = w6_w5(wrows * k);
        // Each kernel's bits on the AVX2 path against the VNNI path.
        macro_rules! bits {
            ($path:ident, $rows:ident, $w:expr) => {{
                let mut out = vec![0u32; arows * wrows];
                // SAFETY: available() and vnni() were checked above.
                unsafe {
                    x86::$path::$rows($w, per_row, 0..wrows, &acts, &mut |r, j, v| {
                        out[r * wrows + j] = v.to_bits()
                    })
                };
                out
            }};
        }
        assert_eq!(bits!(avx2, rows_w4, &w4), bits!(vnni, rows_w4, &w4), "W4");
        assert_eq!(bits!(avx2, rows_w8, &w8), bits!(vnni, rows_w8, &w8), "W8");
        assert_eq!(bits!(avx2, rows_w6, &w6), bits!(vnni, rows_w6, &w6), "W6");
        assert_eq!(bits!(avx2, rows_w5, &w5), bits!(vnni, rows_w5, &w5), "W5");
    }
}
