//! Over 500 lines: the two layouts' kernels come from one macro for two
//! CPU feature sets, with their tests; splitting them would split the macro.
//!
//! Weight rows interleaved eight at a time, for every layout of our kernels
//! ([`W4`]: Q4_1 and Q4_K; [`W8`]: Q8_0, Q4_0, Q5_0; [`W6`]: Q6_K; [`W5`]:
//! Q5_K).
//!
//! With one row per block ([`super::kernels`]), every product of a weight
//! row and an activation row costs a conversion, a scale product and an FMA
//! per block of 32 values, on eight lanes of which one value is kept: in a
//! batch that float work, not the byte products, bounded a step. Here one
//! 32-byte word holds four values of each of eight rows, an activation's
//! matching four bytes are broadcast to all lanes, and eight integer dot
//! products leave each lane with its row's whole block sum: one conversion,
//! one scale product and one FMA then serve eight rows.
//!
//! Each output is the same integer block sums (exact, in any order) scaled
//! and added block by block in the same order whatever the number of
//! activation rows, so a sequence's bits do not depend on its batch; the
//! AVX2 and VNNI paths compute the same integers and give the same bits.

use std::ops::Range;

use super::kernels::{Acts, A8, BLOCK, ROWS, W4, W5, W6, W8};

/// Weight rows per interleaved block.
pub const LANES: usize = 8;

/// Block b of eight [`W4`] rows: lane j is row j. Word p (32 bytes) holds in
/// bytes 4j..4j+4 row j's values 4p..4p+4 (low nibbles) and 16+4p..20+4p
/// (high nibbles): the four source bytes `qs[4p..4p+4]` as they are.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct W4x8 {
    d: [f32; LANES],
    m: [f32; LANES],
    qs: [u8; 128],
}

/// Block b of eight [`W8`] rows: word c holds in bytes 4j..4j+4 row j's
/// values 4c..4c+4.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct W8x8 {
    d: [f32; LANES],
    qs: [i8; 256],
}

/// Block b of eight [`W6`] rows: word c as in [`W8x8`]; `d[h]` the scales of
/// the first (h = 0) and last 16 values of each row.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct W6x8 {
    d: [[f32; LANES]; 2],
    qs: [i8; 256],
}

/// Block b of eight [`W5`] rows: word c as in [`W8x8`], values in 0..32.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct W5x8 {
    d: [f32; LANES],
    m: [f32; LANES],
    qs: [u8; 256],
}

/// Byte i of an interleaved 256-byte block: row i % 32 / 4's value
/// 4 · (i / 32) + i % 4.
fn words<T: Copy>(qs: [&[T; 32]; LANES]) -> [T; 256] {
    std::array::from_fn(|i| qs[i % 32 / 4][4 * (i / 32) + i % 4])
}

/// Interleaves `w` (rows of `per_row` blocks, a multiple of [`LANES`] rows).
pub fn interleave4(w: &[W4], per_row: usize) -> Vec<W4x8> {
    interleave(w, per_row, |src| W4x8 {
        d: std::array::from_fn(|j| src[j].d),
        m: std::array::from_fn(|j| src[j].m),
        qs: std::array::from_fn(|i| {
            let (p, j, t) = (i / 32, i % 32 / 4, i % 4);
            src[j].qs[4 * p + t]
        }),
    })
}

/// Interleaves `w` as [`interleave4`].
pub fn interleave8(w: &[W8], per_row: usize) -> Vec<W8x8> {
    interleave(w, per_row, |src| W8x8 {
        d: std::array::from_fn(|j| src[j].d),
        qs: words(std::array::from_fn(|j| &src[j].qs)),
    })
}

/// Interleaves `w` as [`interleave4`].
pub fn interleave6(w: &[W6], per_row: usize) -> Vec<W6x8> {
    interleave(w, per_row, |src| W6x8 {
        d: std::array::from_fn(|h| std::array::from_fn(|j| src[j].d[h])),
        qs: words(std::array::from_fn(|j| &src[j].qs)),
    })
}

/// Interleaves `w` as [`interleave4`].
pub fn interleave5(w: &[W5], per_row: usize) -> Vec<W5x8> {
    interleave(w, per_row, |src| W5x8 {
        d: std::array::from_fn(|j| src[j].d),
        m: std::array::from_fn(|j| src[j].m),
        qs: words(std::array::from_fn(|j| &src[j].qs)),
    })
}

fn interleave<W: Copy, X>(w: &[W], per_row: usize, block: impl Fn([W; LANES]) -> X) -> Vec<X> {
    assert!(per_row > 0 && w.len().is_multiple_of(per_row * LANES));
    let groups = w.len() / per_row / LANES;
    let mut out = Vec::with_capacity(w.len() / LANES);
    for g in 0..groups {
        for b in 0..per_row {
            out.push(block(std::array::from_fn(|j| {
                w[(g * LANES + j) * per_row + b]
            })));
        }
    }
    out
}

/// Row `lane` of a group's blocks as f32 (the arithmetic of `w4_row`).
pub fn w4x8_row(blocks: &[W4x8], lane: usize, out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        let (d, m) = (b.d[lane], b.m[lane]);
        for p in 0..4 {
            for t in 0..4 {
                let q = b.qs[32 * p + 4 * lane + t];
                o[4 * p + t] = d * (q & 0x0F) as f32 + m;
                o[16 + 4 * p + t] = d * (q >> 4) as f32 + m;
            }
        }
    }
}

/// Row `lane` of a group's blocks as f32 (the arithmetic of `w8_row`).
pub fn w8x8_row(blocks: &[W8x8], lane: usize, out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        for c in 0..8 {
            for t in 0..4 {
                o[4 * c + t] = b.d[lane] * b.qs[32 * c + 4 * lane + t] as f32;
            }
        }
    }
}

/// Row `lane` of a group's blocks as f32 (the arithmetic of `w6_row`).
pub fn w6x8_row(blocks: &[W6x8], lane: usize, out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        for (i, o) in o.iter_mut().enumerate() {
            *o = b.d[i / 16][lane] * b.qs[32 * (i / 4) + 4 * lane + i % 4] as f32;
        }
    }
}

/// Row `lane` of a group's blocks as f32 (the arithmetic of `w5_row`).
pub fn w5x8_row(blocks: &[W5x8], lane: usize, out: &mut [f32]) {
    for (b, o) in blocks.iter().zip(out.chunks_exact_mut(BLOCK)) {
        for (i, o) in o.iter_mut().enumerate() {
            *o = b.d[lane] * b.qs[32 * (i / 4) + 4 * lane + i % 4] as f32 + b.m[lane];
        }
    }
}

/// An interleaved layout ([`W4x8`], [`W8x8`], [`W6x8`], [`W5x8`]).
pub trait Interleaved: Sync {
    /// The products of row groups `gs` (each `per_row` blocks) with every
    /// activation row, handed to `out(activation row, weight row, value)`.
    ///
    /// # Safety
    /// The CPU has AVX2 and FMA (`kernels::available`).
    unsafe fn groups(
        w: &[Self],
        per_row: usize,
        gs: Range<usize>,
        acts: &Acts,
        out: &mut impl FnMut(usize, usize, f32),
    ) where
        Self: Sized;
}

macro_rules! interleaved {
    ($w:ty, $name:ident) => {
        impl Interleaved for $w {
            unsafe fn groups(
                w: &[Self],
                per_row: usize,
                gs: Range<usize>,
                acts: &Acts,
                out: &mut impl FnMut(usize, usize, f32),
            ) {
                assert!(per_row > 0 && gs.end * per_row <= w.len());
                assert!(acts.len().is_multiple_of(per_row));
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the caller's contract; VNNI is checked here.
                unsafe {
                    if super::kernels::vnni() {
                        x86::vnni::$name(w, per_row, gs, acts, out)
                    } else {
                        x86::avx2::$name(w, per_row, gs, acts, out)
                    }
                }
            }
        }
    };
}
interleaved!(W4x8, groups4);
interleaved!(W8x8, groups8);
interleaved!(W6x8, groups6);
interleaved!(W5x8, groups5);

/// The activation blocks, their integer Σq whole and by halves for a group of
/// `n` rows starting at activation row `r` ([`Acts`] order).
type Group<'a> = (&'a [A8], &'a [i32], &'a [[i32; 2]], usize);

fn act_groups(acts: &Acts, per_row: usize, mut f: impl FnMut(usize, Group<'_>)) {
    let n = acts.len() / per_row;
    let mut r = 0;
    while r < n {
        let m = (n - r).min(ROWS);
        let at = r * per_row;
        f(
            r,
            (
                &acts.blocks()[at..],
                &acts.isums()[at..],
                &acts.half_sums()[at..],
                m,
            ),
        );
        r += m;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{act_groups, Acts, Range, W4x8, W5x8, W6x8, W8x8, A8, LANES, ROWS};
    use std::arch::x86_64::*;

    /// `$name(w, per_row, gs, acts, out)` with `$dot` over tiles of up to
    /// `$tile` activation rows.
    macro_rules! group_loop {
        ($name:ident, $dot:ident, $w:ty, $features:literal, $tile:literal) => {
            #[target_feature(enable = $features)]
            pub unsafe fn $name(
                w: &[$w],
                per_row: usize,
                gs: Range<usize>,
                acts: &Acts,
                out: &mut impl FnMut(usize, usize, f32),
            ) {
                for g in gs {
                    let blocks = &w[g * per_row..(g + 1) * per_row];
                    act_groups(acts, per_row, |r, (a, isums, halves, n)| {
                        let mut first = 0;
                        while first < n {
                            let t = (a, isums, halves, n, first);
                            // SAFETY: same features as this function.
                            let sums: [[f32; LANES]; ROWS] = unsafe {
                                match (n - first).min($tile) {
                                    1 => widen($dot::<1>(blocks, t)),
                                    2 => widen($dot::<2>(blocks, t)),
                                    3 => widen($dot::<3>(blocks, t)),
                                    4 => widen($dot::<4>(blocks, t)),
                                    5 => widen($dot::<5>(blocks, t)),
                                    6 => widen($dot::<6>(blocks, t)),
                                    7 => widen($dot::<7>(blocks, t)),
                                    _ => widen($dot::<8>(blocks, t)),
                                }
                            };
                            let k = (n - first).min($tile);
                            for (i, lanes) in sums.iter().take(k).enumerate() {
                                for (j, &v) in lanes.iter().enumerate() {
                                    out(r + first + i, g * LANES + j, v);
                                }
                            }
                            first += $tile;
                        }
                    });
                }
            }
        };
    }

    /// The four kernels for one set of CPU features: `$dot4(acc, w, y)` adds
    /// the products of unsigned weight bytes and signed activation bytes in
    /// groups of four to acc's i32 lanes; `$prep8(w)`, `$dot8(acc, w, y)`
    /// and `$start8(Σy)` the same for signed weights (prepared once per
    /// block, and the value a block's sum starts from).
    macro_rules! kernels {
        ($module:ident, $features:literal, $tile:literal, $dot4:expr, $prep8:expr, $dot8:expr, $start8:expr) => {
            pub mod $module {
                use super::*;

                group_loop!(groups4, dot4, W4x8, $features, $tile);
                group_loop!(groups8, dot8, W8x8, $features, $tile);
                group_loop!(groups6, dot6, W6x8, $features, $tile);
                group_loop!(groups5, dot5, W5x8, $features, $tile);

                /// Eight rows' dot products with N activation rows (lane j of
                /// result r: weight row j, activation row first + r).
                #[target_feature(enable = $features)]
                #[inline]
                unsafe fn dot4<const N: usize>(
                    w: &[W4x8],
                    (acts, _, _, rows, first): (&[A8], &[i32], &[[i32; 2]], usize, usize),
                ) -> [__m256; N] {
                    let len = w.len();
                    assert!(first + N <= rows && N <= ROWS && acts.len() >= rows * len);
                    let base = acts[first..].as_ptr();
                    let mask = _mm256_set1_epi8(0x0F);
                    let mut acc = [_mm256_setzero_ps(); N];
                    for (b, x) in w.iter().enumerate() {
                        prefetch(x);
                        let p = x.qs.as_ptr() as *const __m256i;
                        // SAFETY: qs is 128 bytes: four words.
                        let words: [__m256i; 4] =
                            std::array::from_fn(|i| unsafe { _mm256_loadu_si256(p.add(i)) });
                        let lo = words.map(|v| _mm256_and_si256(v, mask));
                        let hi = words.map(|v| _mm256_and_si256(_mm256_srli_epi16(v, 4), mask));
                        // SAFETY: d and m are eight f32 each.
                        let (d, m) = unsafe {
                            (_mm256_loadu_ps(x.d.as_ptr()), _mm256_loadu_ps(x.m.as_ptr()))
                        };
                        for (r, acc) in acc.iter_mut().enumerate() {
                            // SAFETY: block b of row first + r is at b · rows + r
                            // < rows · len <= acts.len() (asserted above).
                            let y = unsafe { &*base.add(b * rows + r) };
                            let q = y.qs.as_ptr() as *const i32;
                            // SAFETY: qs is 32 bytes: eight groups of four.
                            let at =
                                |c: usize| unsafe { _mm256_set1_epi32(q.add(c).read_unaligned()) };
                            let mut s0 = _mm256_setzero_si256();
                            let mut s1 = _mm256_setzero_si256();
                            for p in (0..4).step_by(2) {
                                s0 = $dot4(s0, lo[p], at(p));
                                s1 = $dot4(s1, lo[p + 1], at(p + 1));
                                s0 = $dot4(s0, hi[p], at(4 + p));
                                s1 = $dot4(s1, hi[p + 1], at(5 + p));
                            }
                            let sum = _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1));
                            let scale = _mm256_mul_ps(d, _mm256_broadcast_ss(&y.d));
                            *acc = _mm256_fmadd_ps(scale, sum, *acc);
                            *acc = _mm256_fmadd_ps(m, _mm256_broadcast_ss(&y.s), *acc);
                        }
                    }
                    acc
                }

                /// The integer sums of eight rows' first and last 16 values
                /// (`words`, prepared) with activation block `y`, from `starts`:
                /// signed weights through `$dot8`, unsigned through `$dot4`.
                #[target_feature(enable = $features)]
                #[inline]
                unsafe fn halves<const SIGNED: bool>(
                    words: &[__m256i; 8],
                    y: &A8,
                    starts: [i32; 2],
                ) -> [__m256i; 2] {
                    let q = y.qs.as_ptr() as *const i32;
                    // SAFETY: qs is 32 bytes: eight groups of four.
                    let at = |c: usize| unsafe { _mm256_set1_epi32(q.add(c).read_unaligned()) };
                    let mut s = starts.map(|v| _mm256_set1_epi32(v));
                    for c in 0..4 {
                        for (h, s) in s.iter_mut().enumerate() {
                            let (w, y) = (words[4 * h + c], at(4 * h + c));
                            *s = if SIGNED {
                                $dot8(*s, w, y)
                            } else {
                                $dot4(*s, w, y)
                            };
                        }
                    }
                    s
                }

                /// `$name`: the 256-byte layouts. Once per block `$prep(word)`
                /// and `$scales(block)`; for each activation row the halves'
                /// integer sums from `$starts([Σy of each half])`, then
                /// `$step(scales, y, [lo, hi], acc)`.
                macro_rules! dot_words {
                    ($name:ident, $w:ty, $signed:literal, $prep:expr, $starts:expr, $scales:expr, $step:expr) => {
                        #[target_feature(enable = $features)]
                        #[inline]
                        unsafe fn $name<const N: usize>(
                            w: &[$w],
                            (acts, _, half_sums, rows, first): (&[A8], &[i32], &[[i32; 2]], usize, usize),
                        ) -> [__m256; N] {
                            let len = w.len();
                            assert!(first + N <= rows && N <= ROWS && acts.len() >= rows * len);
                            assert!(half_sums.len() == acts.len());
                            let base = acts[first..].as_ptr();
                            let half_sums = half_sums[first..].as_ptr();
                            let mut acc = [_mm256_setzero_ps(); N];
                            for (b, x) in w.iter().enumerate() {
                                prefetch(x);
                                let p = x.qs.as_ptr() as *const __m256i;
                                // SAFETY: qs is 256 bytes: eight words.
                                let words: [__m256i; 8] = std::array::from_fn(|i| {
                                    $prep(unsafe { _mm256_loadu_si256(p.add(i)) })
                                });
                                let scales = $scales(x);
                                for (r, acc) in acc.iter_mut().enumerate() {
                                    // SAFETY: block b of row first + r is at
                                    // b · rows + r < rows · len <= acts.len()
                                    // (asserted above), half_sums alike.
                                    let (y, ysum) = unsafe {
                                        (&*base.add(b * rows + r), *half_sums.add(b * rows + r))
                                    };
                                    let starts = $starts(ysum);
                                    let sums = halves::<$signed>(&words, y, starts);
                                    *acc = $step(scales, y, sums, *acc);
                                }
                            }
                            acc
                        }
                    };
                }

                dot_words!(
                    dot6,
                    W6x8,
                    true,
                    $prep8,
                    |s: [i32; 2]| s.map($start8),
                    // SAFETY: d is two rows of eight f32.
                    |x: &W6x8| x.d.map(|d| unsafe { _mm256_loadu_ps(d.as_ptr()) }),
                    |d: [__m256; 2], y: &A8, [lo, hi]: [__m256i; 2], acc: __m256| {
                        let yd = _mm256_broadcast_ss(&y.d);
                        let acc =
                            _mm256_fmadd_ps(_mm256_mul_ps(d[0], yd), _mm256_cvtepi32_ps(lo), acc);
                        _mm256_fmadd_ps(_mm256_mul_ps(d[1], yd), _mm256_cvtepi32_ps(hi), acc)
                    }
                );
                dot_words!(
                    dot5,
                    W5x8,
                    false,
                    |w: __m256i| w,
                    |_: [i32; 2]| [0, 0],
                    // SAFETY: d and m are eight f32 each.
                    |x: &W5x8| unsafe { (_mm256_loadu_ps(x.d.as_ptr()), _mm256_loadu_ps(x.m.as_ptr())) },
                    |(d, m): (__m256, __m256), y: &A8, [lo, hi]: [__m256i; 2], acc: __m256| {
                        let sum = _mm256_cvtepi32_ps(_mm256_add_epi32(lo, hi));
                        let acc = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_broadcast_ss(&y.d)), sum, acc);
                        _mm256_fmadd_ps(m, _mm256_broadcast_ss(&y.s), acc)
                    }
                );

                #[target_feature(enable = $features)]
                #[inline]
                unsafe fn dot8<const N: usize>(
                    w: &[W8x8],
                    (acts, isums, _, rows, first): (&[A8], &[i32], &[[i32; 2]], usize, usize),
                ) -> [__m256; N] {
                    let len = w.len();
                    assert!(first + N <= rows && N <= ROWS && acts.len() >= rows * len);
                    assert!(isums.len() == acts.len());
                    let base = acts[first..].as_ptr();
                    let isums = isums[first..].as_ptr();
                    let mut acc = [_mm256_setzero_ps(); N];
                    for (b, x) in w.iter().enumerate() {
                        prefetch(x);
                        let p = x.qs.as_ptr() as *const __m256i;
                        // SAFETY: qs is 256 bytes: eight words.
                        let words: [__m256i; 8] = std::array::from_fn(|i| {
                            $prep8(unsafe { _mm256_loadu_si256(p.add(i)) })
                        });
                        // SAFETY: d is eight f32.
                        let d = unsafe { _mm256_loadu_ps(x.d.as_ptr()) };
                        for (r, acc) in acc.iter_mut().enumerate() {
                            // SAFETY: as in dot4; isums has an entry per block.
                            let (y, ysum) =
                                unsafe { (&*base.add(b * rows + r), *isums.add(b * rows + r)) };
                            let q = y.qs.as_ptr() as *const i32;
                            // SAFETY: qs is 32 bytes: eight groups of four.
                            let at =
                                |c: usize| unsafe { _mm256_set1_epi32(q.add(c).read_unaligned()) };
                            let mut s0 = _mm256_set1_epi32($start8(ysum));
                            let mut s1 = _mm256_setzero_si256();
                            for c in (0..8).step_by(2) {
                                s0 = $dot8(s0, words[c], at(c));
                                s1 = $dot8(s1, words[c + 1], at(c + 1));
                            }
                            let sum = _mm256_cvtepi32_ps(_mm256_add_epi32(s0, s1));
                            let scale = _mm256_mul_ps(d, _mm256_broadcast_ss(&y.d));
                            *acc = _mm256_fmadd_ps(scale, sum, *acc);
                        }
                    }
                    acc
                }
            }
        };
    }

    // Products of a 4-bit weight (≤ 15) and an activation byte stay far from
    // AVX2's i16 saturation; signed weights use |w| and y with w's sign
    // (128 · 127 · 2 < 2^15). Four activation rows at a time: 16 registers.
    kernels!(
        avx2,
        "avx2,fma",
        4,
        |acc, w, y| _mm256_add_epi32(
            acc,
            _mm256_madd_epi16(_mm256_maddubs_epi16(w, y), _mm256_set1_epi16(1))
        ),
        |w: __m256i| w,
        |acc, w: __m256i, y| _mm256_add_epi32(
            acc,
            _mm256_madd_epi16(
                _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(y, w)),
                _mm256_set1_epi16(1)
            )
        ),
        |_: i32| 0
    );
    // VNNI multiplies unsigned by signed bytes: signed weights are shifted
    // to unsigned (w + 128, a flip of the top bit) and the block's sum
    // starts from −128 · Σy, so Σ (w + 128) · y − 128 · Σy = Σ w · y.
    kernels!(
        vnni,
        "avx2,fma,avx512vnni,avx512vl",
        8,
        |acc, w, y| _mm256_dpbusd_epi32(acc, w, y),
        |w: __m256i| _mm256_xor_si256(w, _mm256_set1_epi8(-128)),
        |acc, w, y| _mm256_dpbusd_epi32(acc, w, y),
        |ysum: i32| -128 * ysum
    );

    /// The weights 4 KiB ahead (see `kernels::x86::prefetch`).
    #[inline(always)]
    fn prefetch<T>(x: &T) {
        let ahead = (x as *const T as *const i8).wrapping_add(4096);
        // SAFETY: a prefetch is a hint; it never faults, whatever the address.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(ahead) };
    }

    /// Results as arrays, padded to [`ROWS`] rows.
    #[inline(always)]
    fn widen<const N: usize>(acc: [__m256; N]) -> [[f32; LANES]; ROWS] {
        let mut out = [[0f32; LANES]; ROWS];
        for (o, a) in out.iter_mut().zip(acc) {
            // SAFETY: a __m256 is eight f32.
            *o = unsafe { std::mem::transmute::<__m256, [f32; LANES]>(a) };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::kernels::{self, quantize_rows, w4_row, w5_row, w6_row, w8_row};
    use super::*;

    fn values(seed: u64, n: usize) -> Vec<f32> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 33) as f32 / (1u64 << 31) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn w4s(rows: usize, per_row: usize) -> Vec<W4> {
        let v = values(7, rows * per_row * 18);
        (0..rows * per_row)
            .map(|i| {
                let d = if i % 5 == 0 {
                    0.0
                } else {
                    v[i * 18].abs() * 0.1
                };
                let qs = std::array::from_fn(|k| ((v[i * 18 + 1 + k] + 1.0) * 127.9) as u8);
                W4::new(d, v[i * 18 + 17] * 0.2, qs)
            })
            .collect()
    }

    fn w8s(rows: usize, per_row: usize) -> Vec<W8> {
        let v = values(11, rows * per_row * 33);
        (0..rows * per_row)
            .map(|i| {
                // Edge values: −128 and 127 in every block.
                let qs = std::array::from_fn(|k| match k {
                    0 => -128,
                    1 => 127,
                    _ => (v[i * 33 + 1 + k] * 127.0) as i8,
                });
                W8::new(v[i * 33].abs() * 0.05, qs)
            })
            .collect()
    }

    fn w6s(rows: usize, per_row: usize) -> Vec<W6> {
        let v = values(13, rows * per_row * 34);
        (0..rows * per_row)
            .map(|i| {
                // Edge values: −32 and 31 in every block, one half's scale 0.
                let qs = std::array::from_fn(|k| match k {
                    3 => -32,
                    20 => 31,
                    _ => (v[i * 34 + 2 + k] * 31.9) as i8,
                });
                let d = [
                    v[i * 34].abs() * 0.05,
                    if i % 3 == 0 { 0.0 } else { v[i * 34 + 1] },
                ];
                W6::new(d, qs)
            })
            .collect()
    }

    fn w5s(rows: usize, per_row: usize) -> Vec<W5> {
        let v = values(17, rows * per_row * 34);
        (0..rows * per_row)
            .map(|i| {
                // Edge values: 0 and 31 in every block.
                let qs = std::array::from_fn(|k| match k {
                    5 => 0,
                    30 => 31,
                    _ => ((v[i * 34 + 2 + k] + 1.0) * 15.99) as u8,
                });
                W5::new(v[i * 34].abs() * 0.05, v[i * 34 + 1] * 0.3, qs)
            })
            .collect()
    }

    /// Runs one path's kernels: AVX2, or VNNI (`vnni`).
    trait Paths: Interleaved + Sized {
        /// # Safety
        /// The CPU has the path's features.
        unsafe fn run(w: &[Self], per_row: usize, acts: &Acts, vnni: bool, out: &mut [f32]);
    }

    macro_rules! paths {
        ($w:ty, $name:ident) => {
            impl Paths for $w {
                unsafe fn run(
                    w: &[Self],
                    per_row: usize,
                    acts: &Acts,
                    vnni: bool,
                    out: &mut [f32],
                ) {
                    let groups = w.len() / per_row;
                    let (rows, gs) = (groups * LANES, 0..groups);
                    let mut put = |r: usize, j: usize, v: f32| out[r * rows + j] = v;
                    // SAFETY: the caller's.
                    unsafe {
                        match vnni {
                            true => x86::vnni::$name(w, per_row, gs, acts, &mut put),
                            false => x86::avx2::$name(w, per_row, gs, acts, &mut put),
                        }
                    }
                }
            }
        };
    }
    paths!(W4x8, groups4);
    paths!(W8x8, groups8);
    paths!(W6x8, groups6);
    paths!(W5x8, groups5);

    /// Both paths (VNNI where the CPU has it), for 1 to 11 activation rows:
    /// every (activation row, weight row) against the dequantized
    /// arithmetic, every row's bits against the same row run alone (so
    /// they depend neither on the batch nor on the row's place in a tile),
    /// and the two paths' bits against each other.
    fn check<X: Paths>(w: &[X], row: impl Fn(usize, &mut [f32]), rows: usize, cols: usize) {
        if !kernels::available() {
            return;
        }
        let per_row = cols / BLOCK;
        let x = values(3, 11 * cols);
        let paths: &[bool] = if kernels::vnni() {
            &[false, true]
        } else {
            eprintln!("this CPU has no AVX-512 VNNI: only the AVX2 kernels are checked");
            &[false]
        };
        // The activations as the kernels see them: quantized, one row alone.
        let xq: Vec<f32> = x
            .chunks(cols)
            .flat_map(|r| quantize_rows(r, cols).blocks().to_vec())
            .flat_map(|a| a.qs.map(|q| a.d * q as f32))
            .collect();
        let run = |n: usize, rows_from: usize, vnni: bool| {
            let acts = quantize_rows(&x[rows_from * cols..(rows_from + n) * cols], cols);
            let mut got = vec![0f32; n * rows];
            // SAFETY: available() and vnni() were checked above.
            unsafe { X::run(w, per_row, &acts, vnni, &mut got) };
            got
        };
        for &vnni in paths {
            let alone: Vec<Vec<f32>> = (0..11).map(|r| run(1, r, vnni)).collect();
            for n in 1..=11 {
                let got = run(n, 0, vnni);
                let mut dense = vec![0f32; cols];
                for j in 0..rows {
                    row(j, &mut dense);
                    for r in 0..n {
                        let terms = (0..cols).map(|k| dense[k] * xq[r * cols + k]);
                        let want: f32 = terms.clone().sum();
                        let size: f32 = terms.map(f32::abs).sum();
                        let v = got[r * rows + j];
                        assert!((v - want).abs() <= 1e-5 * size.max(1.0), "{v} vs {want}");
                    }
                }
                for (r, alone) in alone.iter().enumerate().take(n) {
                    let batched = &got[r * rows..(r + 1) * rows];
                    assert_eq!(alone, batched, "row {r} of {n} (VNNI: {vnni})");
                }
                if vnni {
                    assert_eq!(run(n, 0, false), got, "AVX2 and VNNI differ with {n} rows");
                }
            }
        }
    }

    /// One layout: each interleaved row dequantizes bit for bit like the
    /// one-row layout `w`, and the kernels pass [`check`].
    fn layout<W, X: Paths>(
        w: &[W],
        x8: &[X],
        row: fn(&[W], &mut [f32]),
        x8_row: fn(&[X], usize, &mut [f32]),
    ) {
        let (rows, cols) = (16, 96);
        let per_row = cols / BLOCK;
        let (mut a, mut b) = (vec![0f32; cols], vec![0f32; cols]);
        for j in 0..rows {
            row(&w[j * per_row..(j + 1) * per_row], &mut a);
            let g = j / LANES;
            x8_row(&x8[g * per_row..(g + 1) * per_row], j % LANES, &mut b);
            assert_eq!(a, b, "row {j} dequantizes differently");
        }
        let one_row = |j: usize, out: &mut [f32]| row(&w[j * per_row..(j + 1) * per_row], out);
        check(x8, one_row, rows, cols);
    }

    #[test]
    fn interleaved_rows_match_the_dequantized_arithmetic_for_every_row_count() {
        let per_row = 96 / BLOCK;
        let (w4, w8) = (w4s(16, per_row), w8s(16, per_row));
        let (w6, w5) = (w6s(16, per_row), w5s(16, per_row));
        layout(&w4, &interleave4(&w4, per_row), w4_row, w4x8_row);
        layout(&w8, &interleave8(&w8, per_row), w8_row, w8x8_row);
        layout(&w6, &interleave6(&w6, per_row), w6_row, w6x8_row);
        layout(&w5, &interleave5(&w5, per_row), w5_row, w5x8_row);
    }
}
