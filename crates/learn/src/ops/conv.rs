//! A 2-D convolution and its two gradients on plain `f32` slices, written for the networks of this
//! field: few channels, small kernels, batches of 1 to a few hundred images.
//!
//! Every pass works one image at a time through one row of its patch matrix at a time (the input
//! values one kernel tap sees at every output position: a few hundred floats that stay in L1), so
//! nothing of the size of a batch's patch matrix is ever allocated. Images are shared among the
//! threads; the weight gradient keeps one accumulator per thread and adds them up at the end.
//! The inner loops are compiled three times — AVX-512, AVX2 + FMA, and plain — and the widest the
//! CPU has is chosen at run time, so one binary runs everywhere.

use rayon::prelude::*;

/// The shapes of one convolution: input `[batch, channels, height, width]`, weight
/// `[out_channels, channels, kernel[0], kernel[1]]`, output `[batch, out_channels, out[0], out[1]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub batch: usize,
    pub channels: usize,
    pub input: [usize; 2],
    pub out_channels: usize,
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    /// Zeros added before the first row and column (those after the last only shorten `out`).
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub out: [usize; 2],
}

impl Geometry {
    /// The output size along one axis, given the zeros added at its two ends; `None` when the
    /// kernel does not fit.
    pub fn out_size(
        input: usize,
        kernel: usize,
        stride: usize,
        padding: (usize, usize),
        dilation: usize,
    ) -> Option<usize> {
        let span = dilation * (kernel - 1) + 1;
        (input + padding.0 + padding.1).checked_sub(span).map(|d| d / stride + 1)
    }

    fn taps(&self) -> usize {
        self.channels * self.kernel[0] * self.kernel[1]
    }

    fn positions(&self) -> usize {
        self.out[0] * self.out[1]
    }

    fn image_len(&self) -> usize {
        self.channels * self.input[0] * self.input[1]
    }

    pub fn input_len(&self) -> usize {
        self.batch * self.image_len()
    }

    pub fn weight_len(&self) -> usize {
        self.out_channels * self.taps()
    }

    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.positions()
    }

    /// For kernel tap `k` along `axis`, the output positions whose input coordinate falls inside
    /// the image, and the input coordinate of the first of them.
    fn valid(&self, axis: usize, k: usize) -> (std::ops::Range<usize>, usize) {
        let (s, offset) = (self.stride[axis], k * self.dilation[axis]);
        let pad = self.padding[axis];
        // Input coordinate of output position o: o·s + offset − pad, valid in [0, input).
        let first = pad.saturating_sub(offset).div_ceil(s);
        let end = (self.input[axis] + pad).saturating_sub(offset).div_ceil(s).min(self.out[axis]);
        let first = first.min(end);
        (first..end, (first * s + offset).saturating_sub(pad))
    }
}

/// The instruction set the inner loops run with. Only the CPU's own capabilities can be named:
/// [`Simd::best`] and [`Simd::available`] are the only ways to get one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Simd(Level);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Level {
    Plain,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Simd {
    /// Every level this CPU can run, plainest first.
    pub fn available() -> Vec<Simd> {
        let mut levels = vec![Simd(Level::Plain)];
        #[cfg(target_arch = "x86_64")]
        {
            if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
                levels.push(Simd(Level::Avx2));
                if is_x86_feature_detected!("avx512f") {
                    levels.push(Simd(Level::Avx512));
                }
            }
        }
        levels
    }

    /// The widest level this CPU can run.
    pub fn best() -> Simd {
        *Simd::available().last().expect("plain is always available")
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            Level::Plain => "plain",
            #[cfg(target_arch = "x86_64")]
            Level::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Level::Avx512 => "avx512",
        }
    }
}

/// Multiply-add as the level computes it: fused where the CPU has FMA, plain otherwise (a fused
/// multiply-add without the instruction is a slow library call).
trait MulAdd {
    fn mul_add(a: f32, b: f32, c: f32) -> f32;
}

struct Fused;
struct Separate;

impl MulAdd for Fused {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a.mul_add(b, c)
    }
}

impl MulAdd for Separate {
    #[inline(always)]
    fn mul_add(a: f32, b: f32, c: f32) -> f32 {
        a * b + c
    }
}

/// For each `fn name(args) => body;`, a `name(simd, args)` that runs `body::<M>(args)` compiled
/// for `simd`'s instruction set.
macro_rules! leveled {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) => $body:ident;)*) => {$(
        fn $name(simd: Simd, $($arg: $ty),*) {
            match simd.0 {
                Level::Plain => $body::<Separate>($($arg),*),
                #[cfg(target_arch = "x86_64")]
                Level::Avx2 => {
                    #[target_feature(enable = "avx2,fma")]
                    unsafe fn run($($arg: $ty),*) {
                        $body::<Fused>($($arg),*)
                    }
                    // SAFETY: a `Simd` of this level exists only when the CPU has AVX2 and FMA.
                    unsafe { run($($arg),*) }
                }
                #[cfg(target_arch = "x86_64")]
                Level::Avx512 => {
                    #[target_feature(enable = "avx512f,avx2,fma")]
                    unsafe fn run($($arg: $ty),*) {
                        $body::<Fused>($($arg),*)
                    }
                    // SAFETY: a `Simd` of this level exists only when the CPU has AVX-512F.
                    unsafe { run($($arg),*) }
                }
            }
        }
    )*};
}

/// The width of the output tiles the product below computes: a vector register of AVX-512, two of
/// AVX2.
const LANES: usize = 16;

fn padded(n: usize) -> usize {
    n.div_ceil(LANES) * LANES
}

/// A matrix operand read by index: element `(i, k)` is at `i * row + k * depth`.
#[derive(Clone, Copy)]
struct Strided<'a> {
    values: &'a [f32],
    row: usize,
    depth: usize,
}

/// `c[rows × cols] += a[rows × depth] · b[depth × cols]`, `b` and `c` row-major with leading
/// dimensions `ldb` and `ldc`, `cols` a multiple of [`LANES`]. Tiles of four rows by [`LANES`]
/// columns are held in registers while `depth` runs: each `b` vector loaded serves four rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn product<M: MulAdd>(
    rows: usize,
    cols: usize,
    depth: usize,
    a: Strided,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) {
    let mut i = 0;
    while i + 4 <= rows {
        tile::<M, 4>(i, cols, depth, a, b, ldb, c, ldc);
        i += 4;
    }
    while i < rows {
        tile::<M, 1>(i, cols, depth, a, b, ldb, c, ldc);
        i += 1;
    }
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn tile<M: MulAdd, const R: usize>(
    i0: usize,
    cols: usize,
    depth: usize,
    a: Strided,
    b: &[f32],
    ldb: usize,
    c: &mut [f32],
    ldc: usize,
) {
    for j0 in (0..cols).step_by(LANES) {
        let mut acc = [[0.0f32; LANES]; R];
        for k in 0..depth {
            let bv: &[f32; LANES] = b[k * ldb + j0..][..LANES].try_into().expect("a full tile");
            for (r, acc) in acc.iter_mut().enumerate() {
                let av = a.values[(i0 + r) * a.row + k * a.depth];
                for l in 0..LANES {
                    acc[l] = M::mul_add(av, bv[l], acc[l]);
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            for (c, v) in c[(i0 + r) * ldc + j0..][..LANES].iter_mut().zip(acc) {
                *c += v;
            }
        }
    }
}

/// Kernel tap `r` as `(c, i, j)`, in the order of the weight's last three axes.
/// (Divisions rather than nested iterators, which the compiler leaves as calls per tap.)
fn tap(g: &Geometry, r: usize) -> (usize, usize, usize) {
    let [kh, kw] = g.kernel;
    (r / (kh * kw), r / kw % kh, r % kw)
}

/// One image's patch matrix `[taps × ld]`: row `r` holds the input value under tap `r` at every
/// output position, zero where it falls in the padding.
fn patch_rows(g: &Geometry, image: &[f32], col: &mut [f32], ld: usize) {
    let [h, w] = g.input;
    let ow = g.out[1];
    for (r, row) in col.chunks_exact_mut(ld).take(g.taps()).enumerate() {
        let (c, i, j) = tap(g, r);
        let (rows, first_h) = g.valid(0, i);
        let (cols, first_w) = g.valid(1, j);
        // Only a tap that reaches into the padding leaves zeros (the columns past the positions
        // are never read, or only into outputs that are dropped).
        if rows.len() < g.out[0] || cols.len() < ow {
            row[..g.positions()].fill(0.0);
        }
        for (n, oh) in rows.enumerate() {
            let src = &image[(c * h + first_h + n * g.stride[0]) * w..][..w];
            let dst = &mut row[oh * ow..][..ow];
            if g.stride[1] == 1 {
                copy_short(&mut dst[cols.clone()], &src[first_w..first_w + cols.len()]);
            } else {
                for (m, d) in dst[cols.clone()].iter_mut().enumerate() {
                    *d = src[first_w + m * g.stride[1]];
                }
            }
        }
    }
}

/// `dst.copy_from_slice(src)` for runs of a few dozen values, where the call to `memcpy` that
/// `copy_from_slice` (and any plain copying loop) becomes costs more than the copy: whole vectors
/// are moved as fixed-size arrays, which compile to register moves.
#[inline(always)]
fn copy_short(dst: &mut [f32], src: &[f32]) {
    const V: usize = 8;
    let mut d = dst.chunks_exact_mut(V);
    let mut s = src.chunks_exact(V);
    for (d, s) in (&mut d).zip(&mut s) {
        let d: &mut [f32; V] = d.try_into().expect("a whole chunk");
        *d = s.try_into().expect("a whole chunk");
    }
    for (d, s) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d = *s;
    }
}

/// Adds a patch-matrix gradient `[taps × ld]` back onto the image positions each tap read.
fn scatter_rows(g: &Geometry, col: &[f32], ld: usize, image: &mut [f32]) {
    let [h, w] = g.input;
    let ow = g.out[1];
    image.fill(0.0);
    for (r, row) in col.chunks_exact(ld).take(g.taps()).enumerate() {
        let (c, i, j) = tap(g, r);
        let (rows, first_h) = g.valid(0, i);
        let (cols, first_w) = g.valid(1, j);
        for (n, oh) in rows.enumerate() {
            let dst = &mut image[(c * h + first_h + n * g.stride[0]) * w..][..w];
            let src = &row[oh * ow..][..ow];
            if g.stride[1] == 1 {
                for (d, s) in dst[first_w..first_w + cols.len()].iter_mut().zip(&src[cols.clone()]) {
                    *d += s;
                }
            } else {
                for (m, o) in cols.clone().enumerate() {
                    dst[first_w + m * g.stride[1]] += src[o];
                }
            }
        }
    }
}

/// Per-thread scratch space, allocated once per share of the batch.
struct Scratch {
    col: Vec<f32>,
    out: Vec<f32>,
}

/// One image's output `[out_channels, positions]`: weight × patch matrix, plus the bias.
#[inline(always)]
fn forward_image<M: MulAdd>(
    g: &Geometry,
    image: &[f32],
    weight: &[f32],
    bias: Option<&[f32]>,
    out: &mut [f32],
    s: &mut Scratch,
) {
    let (taps_n, p) = (g.taps(), g.positions());
    let ld = padded(p);
    patch_rows(g, image, &mut s.col, ld);
    s.out.fill(0.0);
    let w = Strided { values: weight, row: taps_n, depth: 1 };
    product::<M>(g.out_channels, ld, taps_n, w, &s.col, ld, &mut s.out, ld);
    for (o, plane) in out.chunks_exact_mut(p).enumerate() {
        let b = bias.map_or(0.0, |b| b[o]);
        for (y, v) in plane.iter_mut().zip(&s.out[o * ld..]) {
            *y = v + b;
        }
    }
}

/// Adds one image's transposed weight gradient to `acc` `[taps × padded(out_channels)]`: the
/// patch matrix × the transposed output gradient. (This way round, both operands are built from
/// contiguous runs; the other needs the patch matrix transposed, a gather as long as the matrix.)
#[inline(always)]
fn weight_grad_image<M: MulAdd>(g: &Geometry, image: &[f32], grad: &[f32], acc: &mut [f32], s: &mut Scratch) {
    let (taps_n, p) = (g.taps(), g.positions());
    let (ld, ldo) = (padded(p), padded(g.out_channels));
    patch_rows(g, image, &mut s.col, ld);
    for (o, plane) in grad.chunks_exact(p).enumerate() {
        for (k, v) in plane.iter().enumerate() {
            s.out[k * ldo + o] = *v;
        }
    }
    let col = Strided { values: &s.col, row: ld, depth: 1 };
    product::<M>(taps_n, ldo, p, col, &s.out, ldo, acc, ldo);
}

/// One image's input gradient, written over `dx`: the transposed weight × the output's gradient,
/// scattered back onto the image.
#[inline(always)]
fn input_grad_image<M: MulAdd>(g: &Geometry, weight: &[f32], grad: &[f32], dx: &mut [f32], s: &mut Scratch) {
    let (taps_n, p) = (g.taps(), g.positions());
    let ld = padded(p);
    for (o, plane) in grad.chunks_exact(p).enumerate() {
        s.out[o * ld..][..p].copy_from_slice(plane);
    }
    s.col.fill(0.0);
    let wt = Strided { values: weight, row: 1, depth: taps_n };
    product::<M>(taps_n, ld, g.out_channels, wt, &s.out, ld, &mut s.col, ld);
    scatter_rows(g, &s.col, ld, dx);
}

leveled! {
    fn forward_at(g: &Geometry, image: &[f32], weight: &[f32], bias: Option<&[f32]>, out: &mut [f32], s: &mut Scratch) => forward_image;
    fn weight_grad_at(g: &Geometry, image: &[f32], grad: &[f32], acc: &mut [f32], s: &mut Scratch) => weight_grad_image;
    fn input_grad_at(g: &Geometry, weight: &[f32], grad: &[f32], dx: &mut [f32], s: &mut Scratch) => input_grad_image;
}

/// Images per task: one share of the batch per thread.
fn share(g: &Geometry) -> usize {
    g.batch.div_ceil(rayon::current_num_threads()).max(1)
}

/// The convolution of `input` by `weight`, plus `bias`: `[batch, out_channels, out[0], out[1]]`.
pub fn forward(simd: Simd, g: &Geometry, input: &[f32], weight: &[f32], bias: Option<&[f32]>) -> Vec<f32> {
    assert_lengths(g, input, weight);
    let mut out = vec![0.0; g.output_len()];
    let (per_out, n) = (g.out_channels * g.positions(), share(g));
    let ld = padded(g.positions());
    out.par_chunks_mut(n * per_out).zip(input.par_chunks(n * g.image_len())).for_each(|(outs, images)| {
        let mut s = Scratch { col: vec![0.0; g.taps() * ld], out: vec![0.0; g.out_channels * ld] };
        for (out, image) in outs.chunks_exact_mut(per_out).zip(images.chunks_exact(g.image_len())) {
            forward_at(simd, g, image, weight, bias, out, &mut s);
        }
    });
    out
}

/// The gradient of the loss with respect to `weight`, given the output's gradient `grad`.
pub fn weight_grad(simd: Simd, g: &Geometry, input: &[f32], grad: &[f32]) -> Vec<f32> {
    assert_eq!(input.len(), g.input_len(), "conv input length");
    assert_eq!(grad.len(), g.output_len(), "conv output-gradient length");
    let (per_grad, n) = (g.out_channels * g.positions(), share(g));
    let ldo = padded(g.out_channels);
    let acc = input
        .par_chunks(n * g.image_len())
        .zip(grad.par_chunks(n * per_grad))
        .map(|(images, grads)| {
            let mut acc = vec![0.0; g.taps() * ldo];
            let mut s = Scratch {
                col: vec![0.0; g.taps() * padded(g.positions())],
                // The output gradient's padding columns stay zero.
                out: vec![0.0; g.positions() * ldo],
            };
            for (image, grad) in images.chunks_exact(g.image_len()).zip(grads.chunks_exact(per_grad)) {
                weight_grad_at(simd, g, image, grad, &mut acc, &mut s);
            }
            acc
        })
        .reduce_with(|mut a, b| {
            a.iter_mut().zip(&b).for_each(|(a, b)| *a += b);
            a
        })
        .unwrap_or_else(|| vec![0.0; g.taps() * ldo]);
    (0..g.out_channels).flat_map(|o| acc.chunks_exact(ldo).map(move |tap| tap[o])).collect()
}

/// The gradient of the loss with respect to the input, given the output's gradient `grad`.
pub fn input_grad(simd: Simd, g: &Geometry, weight: &[f32], grad: &[f32]) -> Vec<f32> {
    assert_eq!(weight.len(), g.weight_len(), "conv weight length");
    assert_eq!(grad.len(), g.output_len(), "conv output-gradient length");
    let mut dx = vec![0.0; g.input_len()];
    let (per_grad, n) = (g.out_channels * g.positions(), share(g));
    let ld = padded(g.positions());
    dx.par_chunks_mut(n * g.image_len()).zip(grad.par_chunks(n * per_grad)).for_each(|(dxs, grads)| {
        let mut s = Scratch { col: vec![0.0; g.taps() * ld], out: vec![0.0; g.out_channels * ld] };
        for (dx, grad) in dxs.chunks_exact_mut(g.image_len()).zip(grads.chunks_exact(per_grad)) {
            input_grad_at(simd, g, weight, grad, dx, &mut s);
        }
    });
    dx
}

fn assert_lengths(g: &Geometry, input: &[f32], weight: &[f32]) {
    assert_eq!(input.len(), g.input_len(), "conv input length");
    assert_eq!(weight.len(), g.weight_len(), "conv weight length");
}
