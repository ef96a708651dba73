//! A 2-D convolution and its two gradients on plain `f32` slices, written for the networks of this
//! field: few channels, small kernels, batches of 1 to a few hundred images.
//!
//! Every pass works one image at a time, as one small matrix product whose operands are read in
//! place from a zero-bordered copy of the image (see [`Frame`]): no patch matrix is built, and
//! what a pass touches stays in cache. Images are shared among the threads; the weight gradient
//! keeps one accumulator per thread and adds them up at the end.
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

/// A matrix operand given by where each of its rows starts: element `(i, k)` is at
/// `values[starts[i] + k * step]`.
#[derive(Clone, Copy)]
struct Rows<'a> {
    values: &'a [f32],
    starts: &'a [usize],
    step: usize,
}

/// `c[rows × cols] += a[rows × depth] · b[depth × cols]`, `c` row-major with leading dimension
/// `ldc`, `b`'s rows contiguous along `cols` (`b.step` unused), `cols` a multiple of [`LANES`].
/// Tiles of four rows by [`LANES`] columns are held in registers while `depth` runs: each `b`
/// vector loaded serves four rows. Rows of `a` that are not contiguous are first packed into
/// `pack`, depth by depth, so that the inner loop reads them in order.
#[inline(always)]
fn product<M: MulAdd>(cols: usize, a: Rows, b: Rows, c: &mut [f32], ldc: usize, pack: &mut Vec<f32>) {
    let rows = a.starts.len();
    let mut i = 0;
    while i + 4 <= rows {
        tile::<M, 4>(i, cols, a, b, c, ldc, pack);
        i += 4;
    }
    while i < rows {
        tile::<M, 1>(i, cols, a, b, c, ldc, pack);
        i += 1;
    }
}

#[inline(always)]
fn tile<M: MulAdd, const R: usize>(
    i0: usize,
    cols: usize,
    a: Rows,
    b: Rows,
    c: &mut [f32],
    ldc: usize,
    pack: &mut Vec<f32>,
) {
    let depth = b.starts.len();
    if a.step == 1 {
        // Rows read in order already: slices of exactly `depth` values, so no bounds checks.
        let rows: [&[f32]; R] = std::array::from_fn(|r| &a.values[a.starts[i0 + r]..][..depth]);
        tile_with::<M, R>(i0, cols, |k| std::array::from_fn(|r| rows[r][k]), b, c, ldc);
    } else {
        pack.clear();
        for k in 0..depth {
            pack.extend(a.starts[i0..i0 + R].iter().map(|row| a.values[row + k * a.step]));
        }
        let pack = &pack[..depth * R];
        tile_with::<M, R>(i0, cols, |k| pack[k * R..][..R].try_into().expect("a whole tile"), b, c, ldc);
    }
}

/// [`tile`] given the rows' values at each depth.
#[inline(always)]
fn tile_with<M: MulAdd, const R: usize>(
    i0: usize,
    cols: usize,
    a: impl Fn(usize) -> [f32; R],
    b: Rows,
    c: &mut [f32],
    ldc: usize,
) {
    for j0 in (0..cols).step_by(LANES) {
        let mut acc = [[0.0f32; LANES]; R];
        for (k, &start) in b.starts.iter().enumerate() {
            let bv: &[f32; LANES] = b.values[start + j0..][..LANES].try_into().expect("a whole tile");
            for (acc, av) in acc.iter_mut().zip(a(k)) {
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

/// The layout every pass works in. The image is copied, one channel plane after another, into a
/// zero-bordered frame of `frame` pixels that holds the padding; output position `(y, x)` of the
/// convolution at stride 1 is then grid position `y · frame[1] + x`, and what kernel tap
/// `(c, i, j)` reads at every grid position is one contiguous run of the frame, starting at
/// `starts[tap]`. So no patch matrix is ever built: the frame's runs are the patch matrix's rows.
/// The grid's positions past the output's width, and at a stride, those between the output's
/// positions, are computed and dropped (or given a zero gradient): on these networks' small
/// images that costs less than gathering patches.
struct Frame {
    frame: [usize; 2],
    /// Grid positions: the stride-1 output rows the strided output needs, `frame[1]` wide.
    grid: usize,
    /// Where tap `r`'s run starts in the frame.
    starts: Vec<usize>,
    /// Values a frame holds, with room for the last run's reads past its end.
    len: usize,
}

impl Frame {
    fn new(g: &Geometry) -> Frame {
        let span = |a: usize| g.dilation[a] * (g.kernel[a] - 1) + 1;
        let frame = [0, 1].map(|a| (g.out[a] - 1) * g.stride[a] + span(a));
        let grid = ((g.out[0] - 1) * g.stride[0] + 1) * frame[1];
        let [kh, kw] = g.kernel;
        let starts = (0..g.taps())
            .map(|r| {
                let (c, i, j) = (r / (kh * kw), r / kw % kh, r % kw);
                (c * frame[0] + i * g.dilation[0]) * frame[1] + j * g.dilation[1]
            })
            .collect();
        let len = g.channels * frame[0] * frame[1] + span(1) + LANES;
        Frame { frame, grid, starts, len }
    }

    /// The grid position of output position `(oh, ow)`.
    fn at(&self, g: &Geometry, oh: usize, ow: usize) -> usize {
        oh * g.stride[0] * self.frame[1] + ow * g.stride[1]
    }

    /// The frame row and column of image pixel `(y, x)`, when the frame holds it.
    fn holds(&self, g: &Geometry, y: usize, x: usize) -> Option<usize> {
        let (fy, fx) = (y + g.padding[0], x + g.padding[1]);
        (fy < self.frame[0] && fx < self.frame[1]).then_some(fy * self.frame[1] + fx)
    }

    /// Calls `put(o, at, v)` for each value `v` of an output gradient `[out_channels, out[0],
    /// out[1]]`, `at` its grid position.
    #[inline(always)]
    fn place(&self, g: &Geometry, grad: &[f32], mut put: impl FnMut(usize, usize, f32)) {
        let [oh, ow] = g.out;
        for (o, plane) in grad.chunks_exact(oh * ow).enumerate() {
            for (y, row) in plane.chunks_exact(ow).enumerate() {
                for (x, v) in row.iter().enumerate() {
                    put(o, self.at(g, y, x), *v);
                }
            }
        }
    }

    /// Copies `image` into `frame` (whose border stays zero from its allocation).
    fn fill(&self, g: &Geometry, image: &[f32], frame: &mut [f32]) {
        let [h, w] = g.input;
        let plane = self.frame[0] * self.frame[1];
        for c in 0..g.channels {
            for y in 0..h {
                let Some(at) = self.holds(g, y, 0) else { break };
                let n = w.min(self.frame[1].saturating_sub(g.padding[1]));
                frame[c * plane + at..][..n].copy_from_slice(&image[(c * h + y) * w..][..n]);
            }
        }
    }
}

/// Per-thread scratch space, allocated once per share of the batch.
struct Scratch {
    frame: Vec<f32>,
    /// The product's output, or its transposed operand.
    grid: Vec<f32>,
    /// The product's packed rows.
    pack: Vec<f32>,
}

impl Scratch {
    fn new(f: &Frame, grid: usize) -> Scratch {
        Scratch { frame: vec![0.0; f.len], grid: vec![0.0; grid], pack: Vec::new() }
    }
}

/// One image's output `[out_channels, positions]`: weight × the frame's runs, plus the bias.
#[inline(always)]
fn forward_image<M: MulAdd>(
    (g, f): (&Geometry, &Frame),
    image: &[f32],
    weight: &[f32],
    bias: &[f32],
    out: &mut [f32],
    s: &mut Scratch,
) {
    let ld = padded(f.grid);
    f.fill(g, image, &mut s.frame);
    s.grid.fill(0.0);
    let rows: Vec<usize> = (0..g.out_channels).map(|o| o * g.taps()).collect();
    let w = Rows { values: weight, starts: &rows, step: 1 };
    product::<M>(ld, w, Rows { values: &s.frame, starts: &f.starts, step: 1 }, &mut s.grid, ld, &mut s.pack);
    let [oh, ow] = g.out;
    for (o, plane) in out.chunks_exact_mut(oh * ow).enumerate() {
        let b = bias[o];
        for (y, row) in plane.chunks_exact_mut(ow).enumerate() {
            let grid = &s.grid[o * ld + f.at(g, y, 0)..];
            if g.stride[1] == 1 {
                for (v, y) in row.iter_mut().zip(grid) {
                    *v = y + b;
                }
            } else {
                for (x, v) in row.iter_mut().enumerate() {
                    *v = grid[x * g.stride[1]] + b;
                }
            }
        }
    }
}

/// Adds one image's transposed weight gradient to `acc` `[taps × padded(out_channels)]`: the
/// frame's runs × the output gradient placed on the grid, transposed.
#[inline(always)]
fn weight_grad_image<M: MulAdd>(
    (g, f): (&Geometry, &Frame),
    image: &[f32],
    grad: &[f32],
    acc: &mut [f32],
    s: &mut Scratch,
) {
    let ldo = padded(g.out_channels);
    f.fill(g, image, &mut s.frame);
    // The grid positions that are not output positions keep the zero they were allocated with.
    f.place(g, grad, |o, at, v| s.grid[at * ldo + o] = v);
    let positions: Vec<usize> = (0..f.grid).map(|p| p * ldo).collect();
    let frame = Rows { values: &s.frame, starts: &f.starts, step: 1 };
    product::<M>(ldo, frame, Rows { values: &s.grid, starts: &positions, step: 1 }, acc, ldo, &mut s.pack);
}

/// One image's input gradient, written over `dx`: the transposed weight × the output gradient
/// placed on the grid, each tap's row added back along its run of the frame.
#[inline(always)]
fn input_grad_image<M: MulAdd>(
    (g, f): (&Geometry, &Frame),
    weight: &[f32],
    grad: &[f32],
    dx: &mut [f32],
    s: &mut Scratch,
) {
    let ld = padded(f.grid);
    let (placed, taps) = s.grid.split_at_mut(g.out_channels * ld);
    f.place(g, grad, |o, at, v| placed[o * ld + at] = v);
    taps.fill(0.0);
    let columns: Vec<usize> = (0..g.taps()).collect();
    let rows: Vec<usize> = (0..g.out_channels).map(|o| o * ld).collect();
    let wt = Rows { values: weight, starts: &columns, step: g.taps() };
    product::<M>(ld, wt, Rows { values: placed, starts: &rows, step: 1 }, taps, ld, &mut s.pack);
    s.frame.fill(0.0);
    for (r, &start) in f.starts.iter().enumerate() {
        for (d, v) in s.frame[start..][..f.grid].iter_mut().zip(&taps[r * ld..]) {
            *d += v;
        }
    }
    let [h, w] = g.input;
    let plane = f.frame[0] * f.frame[1];
    dx.fill(0.0);
    for c in 0..g.channels {
        for y in 0..h {
            for x in 0..w {
                if let Some(at) = f.holds(g, y, x) {
                    dx[(c * h + y) * w + x] = s.frame[c * plane + at];
                }
            }
        }
    }
}

leveled! {
    fn forward_at(g: (&Geometry, &Frame), image: &[f32], weight: &[f32], bias: &[f32], out: &mut [f32], s: &mut Scratch) => forward_image;
    fn weight_grad_at(g: (&Geometry, &Frame), image: &[f32], grad: &[f32], acc: &mut [f32], s: &mut Scratch) => weight_grad_image;
    fn input_grad_at(g: (&Geometry, &Frame), weight: &[f32], grad: &[f32], dx: &mut [f32], s: &mut Scratch) => input_grad_image;
}

/// Images per task: one share of the batch per thread.
fn share(g: &Geometry) -> usize {
    g.batch.div_ceil(rayon::current_num_threads()).max(1)
}

/// The convolution of `input` by `weight`, plus `bias` (one value per output channel):
/// `[batch, out_channels, out[0], out[1]]`.
pub fn forward(simd: Simd, g: &Geometry, input: &[f32], weight: &[f32], bias: &[f32]) -> Vec<f32> {
    assert_eq!(input.len(), g.input_len(), "conv input length");
    assert_eq!(weight.len(), g.weight_len(), "conv weight length");
    let f = Frame::new(g);
    let mut out = vec![0.0; g.output_len()];
    let (per_out, n) = (g.out_channels * g.positions(), share(g));
    out.par_chunks_mut(n * per_out).zip(input.par_chunks(n * g.image_len())).for_each(|(outs, images)| {
        let mut s = Scratch::new(&f, g.out_channels * padded(f.grid));
        for (out, image) in outs.chunks_exact_mut(per_out).zip(images.chunks_exact(g.image_len())) {
            forward_at(simd, (g, &f), image, weight, bias, out, &mut s);
        }
    });
    out
}

/// The gradient of the loss with respect to `weight`, given the output's gradient `grad`.
pub fn weight_grad(simd: Simd, g: &Geometry, input: &[f32], grad: &[f32]) -> Vec<f32> {
    assert_eq!(input.len(), g.input_len(), "conv input length");
    assert_eq!(grad.len(), g.output_len(), "conv output-gradient length");
    let f = Frame::new(g);
    let (per_grad, n) = (g.out_channels * g.positions(), share(g));
    let ldo = padded(g.out_channels);
    let shares: Vec<Vec<f32>> = input
        .par_chunks(n * g.image_len())
        .zip(grad.par_chunks(n * per_grad))
        .map(|(images, grads)| {
            let mut acc = vec![0.0; g.taps() * ldo];
            let mut s = Scratch::new(&f, f.grid * ldo);
            for (image, grad) in images.chunks_exact(g.image_len()).zip(grads.chunks_exact(per_grad)) {
                weight_grad_at(simd, (g, &f), image, grad, &mut acc, &mut s);
            }
            acc
        })
        .collect();
    // Added in the shares' order, whatever the threads did: a run's gradients are reproducible.
    let mut acc = vec![0.0; g.taps() * ldo];
    for share in shares {
        acc.iter_mut().zip(&share).for_each(|(a, b)| *a += b);
    }
    (0..g.out_channels).flat_map(|o| acc.chunks_exact(ldo).map(move |tap| tap[o])).collect()
}

/// The gradient of the loss with respect to the input, given the output's gradient `grad`.
pub fn input_grad(simd: Simd, g: &Geometry, weight: &[f32], grad: &[f32]) -> Vec<f32> {
    assert_eq!(weight.len(), g.weight_len(), "conv weight length");
    assert_eq!(grad.len(), g.output_len(), "conv output-gradient length");
    let f = Frame::new(g);
    let mut dx = vec![0.0; g.input_len()];
    let (per_grad, n) = (g.out_channels * g.positions(), share(g));
    dx.par_chunks_mut(n * g.image_len()).zip(grad.par_chunks(n * per_grad)).for_each(|(dxs, grads)| {
        let mut s = Scratch::new(&f, (g.out_channels + g.taps()) * padded(f.grid));
        for (dx, grad) in dxs.chunks_exact_mut(g.image_len()).zip(grads.chunks_exact(per_grad)) {
            input_grad_at(simd, (g, &f), weight, grad, dx, &mut s);
        }
    });
    dx
}
