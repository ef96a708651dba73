//! 2-D max pooling without padding and its gradient, on plain `f32` slices, one plane (an image's
//! channel) at a time, planes shared among the threads. burn-flex's pooling is written for every
//! padding, dilation and rank, and works out each window's bounds per output value, which costs
//! LeNet's training step more than either of its convolutions.
//!
//! Nothing branches on the values: windows' maxima fall anywhere, so such branches are
//! mispredicted half of the time (and keeping each maximum's index costs more than finding it
//! again in the backward pass).

use rayon::prelude::*;

/// Max pooling of `planes` planes of `input` values by `kernel` windows moved by `stride`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pooling {
    pub planes: usize,
    pub input: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
}

impl Pooling {
    /// The output's height and width; `None` when the window does not fit.
    pub fn out(&self) -> Option<[usize; 2]> {
        let side = |a: usize| self.input[a].checked_sub(self.kernel[a]).map(|d| d / self.stride[a] + 1);
        Some([side(0)?, side(1)?])
    }

    fn plane_len(&self) -> usize {
        self.input[0] * self.input[1]
    }

    /// The window size, as the compiler knows it when `KH` is not 0.
    #[inline(always)]
    fn window<const KH: usize, const KW: usize>(&self) -> [usize; 2] {
        if KH > 0 {
            [KH, KW]
        } else {
            self.kernel
        }
    }

    /// The maximum of the window at `corner` and its position in the window (`a · kw + b`): the
    /// first of equal maxima, or the last NaN (which propagates, as in PyTorch). The position is
    /// an `f32` so that choosing it is a blend like the value's (an integer select compiles to a
    /// branch here).
    #[inline(always)]
    fn max<const KH: usize, const KW: usize>(&self, plane: &[f32], corner: usize) -> (f32, f32) {
        let [kh, kw] = self.window::<KH, KW>();
        let (mut max, mut code) = (plane[corner], 0.0);
        for a in 0..kh {
            for (b, &v) in plane[corner + a * self.input[1]..][..kw].iter().enumerate() {
                let take = v > max || v.is_nan();
                max = if take { v } else { max };
                code = if take { (a * kw + b) as f32 } else { code };
            }
        }
        (max, code)
    }

    /// Calls `f(k, corner)` for each output value `k` of a plane and its window's corner (nested
    /// loops: as an iterator of corners, it is not inlined).
    #[inline(always)]
    fn each_corner(&self, mut f: impl FnMut(usize, usize)) {
        let [oh, ow] = self.out().expect("a window that fits");
        let ([sh, sw], w) = (self.stride, self.input[1]);
        for i in 0..oh {
            for j in 0..ow {
                f(i * ow + j, i * sh * w + j * sw);
            }
        }
    }

    #[inline(always)]
    fn forward_plane<const KH: usize, const KW: usize>(&self, plane: &[f32], out: &mut [f32]) {
        self.each_corner(|k, corner| out[k] = self.max::<KH, KW>(plane, corner).0);
    }

    /// Adds each output value's gradient to the first maximum of its window.
    #[inline(always)]
    fn backward_plane<const KH: usize, const KW: usize>(&self, plane: &[f32], grad: &[f32], dx: &mut [f32]) {
        let [kh, kw] = self.window::<KH, KW>();
        let w = self.input[1];
        // A window position's offset from the window's corner.
        let offsets: Vec<usize> = (0..kh).flat_map(|a| (0..kw).map(move |b| a * w + b)).collect();
        self.each_corner(|k, corner| {
            let code = self.max::<KH, KW>(plane, corner).1;
            dx[corner + offsets[code as usize]] += grad[k];
        });
    }
}

/// The pooled planes, `[planes, out[0], out[1]]`.
pub fn max_forward(p: &Pooling, input: &[f32]) -> Vec<f32> {
    assert_eq!(input.len(), p.planes * p.plane_len(), "pooling input length");
    let [oh, ow] = p.out().expect("a window that fits");
    let mut out = vec![0.0; p.planes * oh * ow];
    out.par_chunks_mut(oh * ow).zip(input.par_chunks(p.plane_len())).for_each(|(out, plane)| match p.kernel {
        [2, 2] => p.forward_plane::<2, 2>(plane, out),
        _ => p.forward_plane::<0, 0>(plane, out),
    });
    out
}

/// The gradient with respect to the input: each output value's gradient goes to the first
/// maximum of its window (found again in `input`).
pub fn max_backward(p: &Pooling, input: &[f32], grad: &[f32]) -> Vec<f32> {
    let [oh, ow] = p.out().expect("a window that fits");
    assert_eq!(input.len(), p.planes * p.plane_len(), "pooling input length");
    assert_eq!(grad.len(), p.planes * oh * ow, "pooling output-gradient length");
    let mut dx = vec![0.0; input.len()];
    dx.par_chunks_mut(p.plane_len()).zip(input.par_chunks(p.plane_len()).zip(grad.par_chunks(oh * ow))).for_each(
        |(dx, (plane, grad))| match p.kernel {
            [2, 2] => p.backward_plane::<2, 2>(plane, grad, dx),
            _ => p.backward_plane::<0, 0>(plane, grad, dx),
        },
    );
    dx
}
