//! Random shifts, turns and mirrors of training images (a learnable's `augment`), drawn afresh
//! each time an image is read, so that a network trained on few images learns their shapes rather
//! than their pixels. Validation and test images are never moved.

use skilang_data::rng::Rng;
use skilang_lang::spec;

/// How far an image may move: each draw is uniform within these bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    /// Pixels along each axis, either way.
    pub shift: f64,
    /// Radians, either way, about the image's centre.
    pub rotate: f64,
    /// Mirrored left to right half the time.
    pub flip: bool,
}

impl Augment {
    /// The spec's `augment`; `None` when it moves nothing.
    pub fn from_spec(a: &spec::Augment) -> Option<Augment> {
        a.moves().then(|| Augment {
            shift: a.shift.as_ref().map_or(0.0, |s| s.value),
            rotate: a.rotate.as_ref().map_or(0.0, |r| r.value.to_radians()),
            flip: a.flip.as_ref().is_some_and(|f| f.value),
        })
    }

    /// Moves each image of `values` (rows of `shape` = channels × height × width, row-major)
    /// by its own draw from `rng`. Pixels that come from outside the image take the channel's
    /// `fill` (the value of a black pixel); others are interpolated bilinearly.
    pub fn apply(&self, values: &mut [f32], shape: [usize; 3], fill: &[f32], rng: &mut Rng) {
        let [channels, height, width] = shape;
        let plane = height * width;
        let mut source = vec![0f32; plane];
        for image in values.chunks_exact_mut(channels * plane) {
            let map = self.draw(height, width, rng);
            for (c, pixels) in image.chunks_exact_mut(plane).enumerate() {
                source.copy_from_slice(pixels);
                for y in 0..height {
                    for x in 0..width {
                        let (sx, sy) = map.source(x as f64, y as f64);
                        pixels[y * width + x] = bilinear(&source, height, width, sx, sy, fill[c]);
                    }
                }
            }
        }
    }

    fn draw(&self, height: usize, width: usize, rng: &mut Rng) -> Inverse {
        let mut uniform = |bound: f64| (2.0 * rng.unit() - 1.0) * bound;
        let angle = uniform(self.rotate);
        let (dx, dy) = (uniform(self.shift), uniform(self.shift));
        let flip = self.flip && rng.unit() < 0.5;
        let centre = ((width as f64 - 1.0) / 2.0, (height as f64 - 1.0) / 2.0);
        Inverse { cos: angle.cos(), sin: angle.sin(), dx, dy, flip, centre }
    }
}

/// Where each output pixel comes from: the image turned by an angle about its centre, shifted,
/// then maybe mirrored, undone.
struct Inverse {
    cos: f64,
    sin: f64,
    dx: f64,
    dy: f64,
    flip: bool,
    centre: (f64, f64),
}

impl Inverse {
    fn source(&self, x: f64, y: f64) -> (f64, f64) {
        let (cx, cy) = self.centre;
        let x = if self.flip { 2.0 * cx - x } else { x };
        let (u, v) = (x - cx - self.dx, y - cy - self.dy);
        (self.cos * u + self.sin * v + cx, -self.sin * u + self.cos * v + cy)
    }
}

fn bilinear(pixels: &[f32], height: usize, width: usize, x: f64, y: f64, fill: f32) -> f32 {
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = ((x - x0) as f32, (y - y0) as f32);
    let at = |xi: f64, yi: f64| {
        if xi < 0.0 || yi < 0.0 || xi >= width as f64 || yi >= height as f64 {
            fill
        } else {
            pixels[yi as usize * width + xi as usize]
        }
    };
    let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1.0, y0) * fx;
    let bottom = at(x0, y0 + 1.0) * (1.0 - fx) + at(x0 + 1.0, y0 + 1.0) * fx;
    top * (1.0 - fy) + bottom * fy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(height: usize, width: usize) -> Vec<f32> {
        (0..height * width).map(|i| i as f32).collect()
    }

    #[test]
    fn nothing_drawn_leaves_the_image_as_it_is() {
        let still = Augment { shift: 0.0, rotate: 0.0, flip: false };
        let mut v = image(5, 7);
        still.apply(&mut v, [1, 5, 7], &[-1.0], &mut Rng::new(1));
        assert_eq!(v, image(5, 7));
    }

    #[test]
    fn a_half_turn_and_a_mirror_are_exact_permutations_of_the_pixels() {
        let (h, w) = (4, 6);
        let turned = Inverse { cos: -1.0, sin: 0.0, dx: 0.0, dy: 0.0, flip: false, centre: (2.5, 1.5) };
        let mirrored = Inverse { cos: 1.0, sin: 0.0, dx: 0.0, dy: 0.0, flip: true, centre: (2.5, 1.5) };
        let src = image(h, w);
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = turned.source(x as f64, y as f64);
                assert_eq!(bilinear(&src, h, w, sx, sy, -1.0), src[(h - 1 - y) * w + (w - 1 - x)]);
                let (sx, sy) = mirrored.source(x as f64, y as f64);
                assert_eq!(bilinear(&src, h, w, sx, sy, -1.0), src[y * w + (w - 1 - x)]);
            }
        }
    }

    #[test]
    fn a_whole_pixel_shift_moves_the_image_and_fills_what_it_uncovers() {
        let (h, w) = (3, 4);
        let right = Inverse { cos: 1.0, sin: 0.0, dx: 1.0, dy: 0.0, flip: false, centre: (1.5, 1.0) };
        let src = image(h, w);
        for y in 0..h {
            for x in 0..w {
                let (sx, sy) = right.source(x as f64, y as f64);
                let want = if x == 0 { -1.0 } else { src[y * w + x - 1] };
                assert_eq!(bilinear(&src, h, w, sx, sy, -1.0), want);
            }
        }
    }

    #[test]
    fn draws_stay_within_their_bounds_and_differ_between_images() {
        let a = Augment { shift: 2.0, rotate: 10f64.to_radians(), flip: true };
        let mut rng = Rng::new(3);
        let maps: Vec<Inverse> = (0..200).map(|_| a.draw(28, 28, &mut rng)).collect();
        assert!(maps.iter().all(|m| m.dx.abs() <= 2.0 && m.dy.abs() <= 2.0 && m.sin.abs() <= 10f64.to_radians().sin()));
        let flipped = maps.iter().filter(|m| m.flip).count();
        assert!((60..140).contains(&flipped), "{flipped} of 200 mirrored");
        // A moved image keeps its mass roughly where a blob stays inside the frame.
        let mut v = vec![0f32; 2 * 28 * 28];
        for row in [0, 1] {
            for y in 10..18 {
                for x in 10..18 {
                    v[row * 784 + y * 28 + x] = 1.0;
                }
            }
        }
        a.apply(&mut v, [1, 28, 28], &[0.0], &mut rng);
        let mass: Vec<f32> = v.chunks(784).map(|c| c.iter().sum()).collect();
        assert!(mass.iter().all(|m| (m - 64.0).abs() < 8.0), "{mass:?}");
        assert_ne!(v[..784], v[784..], "each image draws its own move");
    }
}
