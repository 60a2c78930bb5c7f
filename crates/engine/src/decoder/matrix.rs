//! A weight matrix in its GGUF block encoding, multiplied by a batch of
//! activation rows: Q4_1 and Q8_0 with our AVX2 kernels ([`super::kernels`]),
//! Q4_0, Q5_0, Q4_K, Q5_K and Q6_K rewritten into their layouts first
//! ([`super::repack`]), every other type with candle's dot-product kernels.
//!
//! candle's own `QMatMul` picks different kernels for one row and for many
//! (repacked tiles on some CPUs), so a sequence's logits would change with the
//! number of sequences sharing its step. Here every output element is the same
//! `vec_dot_4`/`vec_dot` call of one weight row against one activation row,
//! whatever the batch: a sequence decodes bit-for-bit the same alone or in a
//! batch, in one prefill chunk or many. Each worker walks a range of weight
//! rows and, for each, all activation rows, so a weight row is read from
//! memory once per step instead of once per sequence.

use std::io::{Read, Seek, SeekFrom};

use candle_core::quantized::gguf_file::Content;
use candle_core::quantized::k_quants::{
    BlockQ2K, BlockQ3K, BlockQ4K, BlockQ4_0, BlockQ4_1, BlockQ5K, BlockQ5_0, BlockQ5_1, BlockQ6K,
    BlockQ8K, BlockQ8_0, GgmlType,
};
use candle_core::quantized::GgmlDType;
use half::f16;

use super::interleaved::{self, Interleaved, W4x8, W5x8, W6x8, W8x8};
use super::{kernels, repack};
use rayon::prelude::*;

/// Weight rows per unit of parallel work: small enough to balance two to
/// sixteen cores on a 576-wide projection, large enough to amortise rayon.
const ROWS_PER_TASK: usize = 32;

/// `rows` × `cols` weights (GGUF `ne = [cols, rows]`), one block type.
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    blocks: Blocks,
}

enum Blocks {
    /// Our kernels' layouts (where the CPU has AVX2).
    /// Our kernels' layouts (where the CPU has AVX2).
    Ours(Ours),
    F32(Vec<f32>),
    F16(Vec<f16>),
    Q4_0(Vec<BlockQ4_0>),
    Q4_1(Vec<BlockQ4_1>),
    Q5_0(Vec<BlockQ5_0>),
    Q5_1(Vec<BlockQ5_1>),
    Q8_0(Vec<BlockQ8_0>),
    Q2K(Vec<BlockQ2K>),
    Q3K(Vec<BlockQ3K>),
    Q4K(Vec<BlockQ4K>),
    Q5K(Vec<BlockQ5K>),
    Q6K(Vec<BlockQ6K>),
    Q8K(Vec<BlockQ8K>),
}

/// Runs `$body` with `$v` bound to the typed block vector.
macro_rules! with_blocks {
    ($blocks:expr, $v:ident => $body:expr) => {
        match $blocks {
            Blocks::Ours(_) => unreachable!("handled before"),
            Blocks::F32($v) => $body,
            Blocks::F16($v) => $body,
            Blocks::Q4_0($v) => $body,
            Blocks::Q4_1($v) => $body,
            Blocks::Q5_0($v) => $body,
            Blocks::Q5_1($v) => $body,
            Blocks::Q8_0($v) => $body,
            Blocks::Q2K($v) => $body,
            Blocks::Q3K($v) => $body,
            Blocks::Q4K($v) => $body,
            Blocks::Q5K($v) => $body,
            Blocks::Q6K($v) => $body,
            Blocks::Q8K($v) => $body,
        }
    };
}

impl Matrix {
    /// Memory the weights hold, in the layout the kernels read.
    pub fn bytes(&self) -> u64 {
        (match &self.blocks {
            Blocks::Ours(o) => o.bytes(),
            blocks => with_blocks!(blocks, v => std::mem::size_of_val(v.as_slice())),
        }) as u64
    }

    /// Reads tensor `name` from the GGUF whose header is `content`.
    pub fn read<R: Read + Seek>(
        content: &Content,
        reader: &mut R,
        name: &str,
    ) -> candle_core::Result<Self> {
        let info = content
            .tensor_infos
            .get(name)
            .ok_or_else(|| candle_core::Error::Msg(format!("tensor `{name}` is missing")))?;
        let dims = info.shape.dims();
        let (rows, cols) = match dims {
            [cols] => (1, *cols),
            // candle lists GGUF dimensions outermost first: [rows, cols].
            [rows, cols] => (*rows, *cols),
            _ => candle_core::bail!("tensor `{name}` has shape {dims:?}; a matrix was expected"),
        };
        let dtype = info.ggml_dtype;
        if cols % dtype.block_size() != 0 {
            candle_core::bail!(
                "tensor `{name}`: row length {cols} is not a multiple of the {dtype:?} block size"
            );
        }
        let count = rows * cols / dtype.block_size();
        let mut bytes = vec![0u8; count * dtype.type_size()];
        reader.seek(SeekFrom::Start(content.tensor_data_offset + info.offset))?;
        reader.read_exact(&mut bytes)?;
        let fast = kernels::available();
        let blocks = match dtype {
            GgmlDType::Q4_1 if fast => Blocks::Ours(Ours::W4(kernels::w4_from_gguf(&bytes))),
            GgmlDType::Q8_0 if fast => Blocks::Ours(Ours::W8(kernels::w8_from_gguf(&bytes))),
            GgmlDType::Q4_0 if fast => Blocks::Ours(Ours::W8(repack::w8_from_q4_0(&bytes))),
            GgmlDType::Q5_0 if fast => Blocks::Ours(Ours::W8(repack::w8_from_q5_0(&bytes))),
            GgmlDType::Q4K if fast => Blocks::Ours(Ours::W4(repack::w4_from_q4_k(&bytes))),
            GgmlDType::Q5K if fast => Blocks::Ours(Ours::W5(repack::w5_from_q5_k(&bytes))),
            GgmlDType::Q6K if fast => Blocks::Ours(Ours::W6(repack::w6_from_q6_k(&bytes))),
            GgmlDType::F32 => Blocks::F32(cast(&bytes)),
            GgmlDType::F16 => Blocks::F16(cast(&bytes)),
            GgmlDType::Q4_0 => Blocks::Q4_0(cast(&bytes)),
            GgmlDType::Q4_1 => Blocks::Q4_1(cast(&bytes)),
            GgmlDType::Q5_0 => Blocks::Q5_0(cast(&bytes)),
            GgmlDType::Q5_1 => Blocks::Q5_1(cast(&bytes)),
            GgmlDType::Q8_0 => Blocks::Q8_0(cast(&bytes)),
            GgmlDType::Q2K => Blocks::Q2K(cast(&bytes)),
            GgmlDType::Q3K => Blocks::Q3K(cast(&bytes)),
            GgmlDType::Q4K => Blocks::Q4K(cast(&bytes)),
            GgmlDType::Q5K => Blocks::Q5K(cast(&bytes)),
            GgmlDType::Q6K => Blocks::Q6K(cast(&bytes)),
            GgmlDType::Q8K => Blocks::Q8K(cast(&bytes)),
            other => candle_core::bail!("tensor `{name}`: type {other:?} is not supported"),
        };
        // The file's bytes go before the interleaved copy is made: a load
        // holds at most two copies of a matrix (Gemma 3's embedding is 189 MB).
        drop(bytes);
        let blocks = match blocks {
            Blocks::Ours(o) if rows.is_multiple_of(interleaved::LANES) => {
                Blocks::Ours(o.interleave(cols / kernels::BLOCK))
            }
            other => other,
        };
        Ok(Self { rows, cols, blocks })
    }

    /// A one-dimensional tensor (a norm's weights, a bias) as f32.
    pub fn read_vector<R: Read + Seek>(
        content: &Content,
        reader: &mut R,
        name: &str,
    ) -> candle_core::Result<Vec<f32>> {
        let m = Self::read(content, reader, name)?;
        if m.rows != 1 {
            candle_core::bail!("tensor `{name}` is a matrix; a vector was expected");
        }
        let mut v = vec![0f32; m.cols];
        m.row_into(0, &mut v);
        Ok(v)
    }

    /// Refuses a tensor whose shape is not `rows` × `cols`.
    pub fn expect(self, name: &str, rows: usize, cols: usize) -> candle_core::Result<Self> {
        if (self.rows, self.cols) != (rows, cols) {
            candle_core::bail!(
                "tensor `{name}` is {}×{}; the model's shape needs {rows}×{cols}",
                self.rows,
                self.cols
            );
        }
        Ok(self)
    }

    /// Weight row `i` as f32 into `out` (an embedding lookup).
    pub fn row_into(&self, i: usize, out: &mut [f32]) {
        let per_row = self.cols / kernels::BLOCK;
        match &self.blocks {
            Blocks::Ours(o) => o.row_into(i, per_row, out),
            blocks => with_blocks!(blocks, v => {
                let per_row = v.len() / self.rows;
                GgmlType::to_float(&v[i * per_row..(i + 1) * per_row], out);
            }),
        }
    }

    /// `out[r][j] = Σ_k x[r][k] · w[j][k]` for every activation row `r` of `x`
    /// (`n` rows of `cols`); `out` is `n` rows of `self.rows`.
    pub fn matmul(&self, x: &[f32], out: &mut [f32]) {
        Self::matmul_many(&[self], x, &mut [out]);
    }

    /// [`Self::matmul`] of several matrices with the same input (Q, K and V;
    /// gate and up), quantizing the input once where they share a format.
    pub fn matmul_many(mats: &[&Self], x: &[f32], outs: &mut [&mut [f32]]) {
        assert_eq!(mats.len(), outs.len());
        let fast = |m: &Self| matches!(m.blocks, Blocks::Ours(_));
        let cols = mats.first().map_or(0, |m| m.cols);
        let shared = mats
            .iter()
            .all(|m| fast(m) && m.cols == cols)
            .then(|| quantize_rows(x, cols));
        for (m, out) in mats.iter().zip(outs.iter_mut()) {
            let (rows, cols) = (m.rows, m.cols);
            let n = x.len() / cols;
            // Real asserts: the kernels write `out` through a raw pointer.
            assert_eq!(x.len(), n * cols, "matmul input is not whole rows");
            assert_eq!(out.len(), n * rows, "matmul output has the wrong size");
            let own = (shared.is_none() && fast(m)).then(|| quantize_rows(x, cols));
            let acts = || {
                shared
                    .as_ref()
                    .or(own.as_ref())
                    .expect("quantized for our kernels")
            };
            match &m.blocks {
                Blocks::Ours(o) => o.matmul(rows, cols, acts(), out),
                blocks => with_blocks!(blocks, v => matmul_typed(v, rows, cols, x, out)),
            }
        }
    }
}

/// The rows of `x` (each `cols` long) as activation blocks.
fn quantize_rows(x: &[f32], cols: usize) -> kernels::Acts {
    if x.len() < super::ops::PARALLEL_MIN {
        return kernels::quantize_rows(x, cols);
    }
    // The groups kernels::quantize_rows cuts, in parallel.
    let group = kernels::ROWS * cols;
    let mut xq = vec![kernels::A8::default(); x.len() / kernels::BLOCK];
    xq.par_chunks_mut(group / kernels::BLOCK)
        .zip(x.par_chunks(group))
        .for_each(|(q, rows)| kernels::quantize_group(rows, cols, q));
    kernels::Acts::new(xq)
}

/// Writes into `out` (n × rows) from parallel tasks that own disjoint columns.
struct Output {
    ptr: usize,
    rows: usize,
}

impl Output {
    fn new(out: &mut [f32], rows: usize) -> Self {
        Self {
            ptr: out.as_mut_ptr() as usize,
            rows,
        }
    }

    fn write(&self, r: usize, j: usize, value: f32) {
        // SAFETY: `out` holds n × rows values and outlives the parallel loop;
        // each (r, j) is written by exactly one task (tasks own disjoint
        // ranges of j), so no two threads touch the same element.
        unsafe { *(self.ptr as *mut f32).add(r * self.rows + j) = value }
    }
}

/// Our kernels' matmul: tasks own ranges of weight rows.
fn matmul_fast<W: kernels::Weight>(
    w: &[W],
    rows: usize,
    cols: usize,
    xq: &kernels::Acts,
    out: &mut [f32],
) {
    let per_row = cols / kernels::BLOCK;
    let out = Output::new(out, rows);
    (0..rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .for_each(|t| {
            let js = t * ROWS_PER_TASK..rows.min((t + 1) * ROWS_PER_TASK);
            kernels::matmul(w, per_row, js, xq, &mut |r, j, v| out.write(r, j, v));
        });
}

/// [`matmul_fast`] for the interleaved layouts: tasks own ranges of row groups.
fn matmul_x8<X: Interleaved>(
    w: &[X],
    rows: usize,
    cols: usize,
    xq: &kernels::Acts,
    out: &mut [f32],
) {
    let per_row = cols / kernels::BLOCK;
    let groups = rows / interleaved::LANES;
    let per_task = ROWS_PER_TASK / interleaved::LANES;
    let out = Output::new(out, rows);
    (0..groups.div_ceil(per_task))
        .into_par_iter()
        .for_each(|t| {
            let gs = t * per_task..groups.min((t + 1) * per_task);
            // SAFETY: matrices take this layout only where `kernels::available()`.
            unsafe { X::groups(w, per_row, gs, xq, &mut |r, j, v| out.write(r, j, v)) };
        });
}

fn matmul_typed<T: GgmlType>(w: &[T], rows: usize, cols: usize, x: &[f32], out: &mut [f32]) {
    let n = x.len() / cols;
    let per_row = cols / T::BLCK_SIZE;
    // The activations in the block type the kernel pairs with T (Q8 for most).
    let mut xq = vec![T::VecDotType::zeros(); n * cols / T::VecDotType::BLCK_SIZE];
    let xq_per_row = xq.len() / n.max(1);
    xq.par_chunks_mut(xq_per_row.max(1))
        .zip(x.par_chunks(cols))
        .for_each(|(q, row)| T::VecDotType::from_float(row, q));

    let out = Output::new(out, rows);
    let write = |r, j, v| out.write(r, j, v);
    (0..rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .for_each(|t| {
            let first = t * ROWS_PER_TASK;
            let last = rows.min(first + ROWS_PER_TASK);
            let wrow = |j: usize| &w[j * per_row..(j + 1) * per_row];
            let xrow = |r: usize| &xq[r * xq_per_row..(r + 1) * xq_per_row];
            let mut j = first;
            while j + 4 <= last {
                for r in 0..n {
                    let (a, b, c, d) = T::vec_dot_4(
                        cols,
                        wrow(j),
                        wrow(j + 1),
                        wrow(j + 2),
                        wrow(j + 3),
                        xrow(r),
                    );
                    write(r, j, a);
                    write(r, j + 1, b);
                    write(r, j + 2, c);
                    write(r, j + 3, d);
                }
                j += 4;
            }
            for j in j..last {
                for r in 0..n {
                    write(r, j, T::vec_dot(cols, wrow(j), xrow(r)));
                }
            }
        });
}

/// A matrix in one of our kernels' layouts: one row per block, or (rows a
/// multiple of 8) eight rows interleaved ([`interleaved`]).
enum Ours {
    W4(Vec<kernels::W4>),
    W8(Vec<kernels::W8>),
    W6(Vec<kernels::W6>),
    W5(Vec<kernels::W5>),
    W4x8(Vec<W4x8>),
    W8x8(Vec<W8x8>),
    W6x8(Vec<W6x8>),
    W5x8(Vec<W5x8>),
}

impl Ours {
    fn bytes(&self) -> usize {
        match self {
            Ours::W4(v) => std::mem::size_of_val(v.as_slice()),
            Ours::W8(v) => std::mem::size_of_val(v.as_slice()),
            Ours::W6(v) => std::mem::size_of_val(v.as_slice()),
            Ours::W5(v) => std::mem::size_of_val(v.as_slice()),
            Ours::W4x8(v) => std::mem::size_of_val(v.as_slice()),
            Ours::W8x8(v) => std::mem::size_of_val(v.as_slice()),
            Ours::W6x8(v) => std::mem::size_of_val(v.as_slice()),
            Ours::W5x8(v) => std::mem::size_of_val(v.as_slice()),
        }
    }

    /// The one-row layouts rewritten eight rows interleaved.
    fn interleave(self, per_row: usize) -> Self {
        match self {
            Ours::W4(w) => Ours::W4x8(interleaved::interleave4(&w, per_row)),
            Ours::W8(w) => Ours::W8x8(interleaved::interleave8(&w, per_row)),
            Ours::W6(w) => Ours::W6x8(interleaved::interleave6(&w, per_row)),
            Ours::W5(w) => Ours::W5x8(interleaved::interleave5(&w, per_row)),
            done => done,
        }
    }

    /// Row `i` (of `per_row` blocks) as f32.
    fn row_into(&self, i: usize, per_row: usize, out: &mut [f32]) {
        let own = i * per_row..(i + 1) * per_row;
        let (g, lane) = (i / interleaved::LANES, i % interleaved::LANES);
        let group = g * per_row..(g + 1) * per_row;
        match self {
            Ours::W4(v) => kernels::w4_row(&v[own], out),
            Ours::W8(v) => kernels::w8_row(&v[own], out),
            Ours::W6(v) => kernels::w6_row(&v[own], out),
            Ours::W5(v) => kernels::w5_row(&v[own], out),
            Ours::W4x8(v) => interleaved::w4x8_row(&v[group], lane, out),
            Ours::W8x8(v) => interleaved::w8x8_row(&v[group], lane, out),
            Ours::W6x8(v) => interleaved::w6x8_row(&v[group], lane, out),
            Ours::W5x8(v) => interleaved::w5x8_row(&v[group], lane, out),
        }
    }

    fn matmul(&self, rows: usize, cols: usize, acts: &kernels::Acts, out: &mut [f32]) {
        match self {
            Ours::W4(v) => matmul_fast(v, rows, cols, acts, out),
            Ours::W8(v) => matmul_fast(v, rows, cols, acts, out),
            Ours::W6(v) => matmul_fast(v, rows, cols, acts, out),
            Ours::W5(v) => matmul_fast(v, rows, cols, acts, out),
            Ours::W4x8(v) => matmul_x8(v, rows, cols, acts, out),
            Ours::W8x8(v) => matmul_x8(v, rows, cols, acts, out),
            Ours::W6x8(v) => matmul_x8(v, rows, cols, acts, out),
            Ours::W5x8(v) => matmul_x8(v, rows, cols, acts, out),
        }
    }
}

/// Copies GGUF bytes into a vector of blocks (with the blocks' alignment).
fn cast<T: GgmlType>(bytes: &[u8]) -> Vec<T> {
    let size = std::mem::size_of::<T>();
    assert_eq!(bytes.len() % size, 0, "tensor bytes are not whole blocks");
    let count = bytes.len() / size;
    let mut v: Vec<T> = Vec::with_capacity(count);
    // SAFETY: every GGML block type is `repr(C)` plain data (f16 and integer
    // fields), so any byte pattern is a valid value; the capacity holds
    // `count` blocks, all of which are written before `set_len`.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), v.as_mut_ptr() as *mut u8, bytes.len());
        v.set_len(count);
    }
    v
}
