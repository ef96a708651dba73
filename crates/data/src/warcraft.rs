//! Warcraft shortest path (Vlastelica et al. 2020): k×k terrain maps drawn with 8×8-pixel tiles,
//! each tile of one of five terrains with a cost; the label is the cheapest path from the top-left
//! tile to the bottom-right one (8 neighbours, each tile's cost paid, Dijkstra).
//!
//! The published maps (rendered from Warcraft II's tile set) cannot be downloaded here, so this
//! generates an **analogue** with the same structure and format: terrain as thresholded smooth
//! noise with roads walked across it, the five published costs, and each tile drawn procedurally
//! (a terrain's colour and pattern — grass blades, tree crowns, ridges, waves, ruts — with per-map
//! light and per-tile variation, so that no two tiles are alike). Maps, paths and costs are read
//! and written in the published `.npy` layout: `{k}x{k}/{train,val,test}_maps.npy` (N, 8k, 8k, 3
//! bytes), `_shortest_paths.npy` (N, k, k, 0/1) and `_vertex_weights.npy` (N, k, k, the costs).

use crate::npz;
use crate::rng::Rng;
use skilang_lang::path;
use std::path::PathBuf;

/// The five terrain costs, in tenths (0.8, 1.2, 5.3, 7.7, 9.2): the cost column's values. This
/// generator's terrains, in that order: road, grass, forest, hills, water.
pub const COSTS: [i64; 5] = [8, 12, 53, 77, 92];
pub const TILE: usize = 8;
/// The splits, as the published files name them.
pub const SPLITS: [&str; 3] = ["train", "val", "test"];

#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Tiles per side: 12, 18, 24 or 30 in the published sets.
    pub side: usize,
    /// Maps per split, in [`SPLITS`] order.
    pub maps: [usize; 3],
    pub seed: u64,
}

impl Config {
    /// The published sizes: 10,000 training, 1,000 validation and 1,000 test maps.
    pub fn standard(side: usize) -> Config {
        Config { side, maps: [10_000, 1_000, 1_000], seed: 0x3A2C_0000 ^ side as u64 }
    }

    /// Where the published layout keeps this size, under the data directory's `warcraft/`.
    pub fn folder(&self) -> PathBuf {
        PathBuf::from(format!("{0}x{0}", self.side))
    }
}

/// Maps of one split: pixels (N, 8k, 8k, 3, row-major as published), each tile's terrain (an
/// index into [`COSTS`]) and whether it is on the cheapest path.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub side: usize,
    pub pixels: Vec<u8>,
    pub terrain: Vec<u8>,
    pub on_path: Vec<bool>,
}

impl Split {
    pub fn maps(&self) -> usize {
        self.terrain.len() / (self.side * self.side).max(1)
    }

    /// Each tile's pixels, channels first (3 × 8 × 8), tiles row-major within maps: the maps'
    /// own bytes rearranged map by map (a map's tiles hold as many bytes as its pixels), so that
    /// 30×30 maps need no second copy of their 2 GB.
    pub fn into_tiles(mut self) -> Vec<u8> {
        let (k, width) = (self.side, self.side * TILE);
        let mut tiles = Vec::with_capacity(width * width * 3);
        for map in self.pixels.chunks_exact_mut(width * width * 3) {
            tiles.clear();
            for (r, c) in (0..k * k).map(|t| (t / k, t % k)) {
                for ch in 0..3 {
                    for y in 0..TILE {
                        for x in 0..TILE {
                            tiles.push(map[((r * TILE + y) * width + c * TILE + x) * 3 + ch]);
                        }
                    }
                }
            }
            map.copy_from_slice(&tiles);
        }
        self.pixels
    }
}

/// The three splits of `config`, seeded by it.
pub fn generate(config: &Config) -> [Split; 3] {
    let mut rng = Rng::new(config.seed);
    config.maps.map(|n| {
        let mut split = Split { side: config.side, pixels: Vec::new(), terrain: Vec::new(), on_path: Vec::new() };
        for _ in 0..n {
            let terrain = terrain(config.side, &mut rng);
            let costs: Vec<i64> = terrain.iter().map(|&t| COSTS[t as usize]).collect();
            split.on_path.extend(path::shortest(&costs, config.side));
            split.pixels.extend(draw(&terrain, config.side, &mut rng));
            split.terrain.extend(terrain);
        }
        split
    })
}

/// Smooth noise on a k×k grid: random values on a coarse lattice, interpolated bilinearly.
fn noise(side: usize, lattice: usize, rng: &mut Rng) -> Vec<f64> {
    let n = lattice + 1;
    let knots: Vec<f64> = (0..n * n).map(|_| rng.unit()).collect();
    let mut out = Vec::with_capacity(side * side);
    for r in 0..side {
        for c in 0..side {
            let (y, x) = (r as f64 * lattice as f64 / side as f64, c as f64 * lattice as f64 / side as f64);
            let (y0, x0) = (y.floor() as usize, x.floor() as usize);
            let (fy, fx) = (y - y0 as f64, x - x0 as f64);
            let at = |i: usize, j: usize| knots[i.min(lattice) * n + j.min(lattice)];
            let top = at(y0, x0) * (1.0 - fx) + at(y0, x0 + 1) * fx;
            let bottom = at(y0 + 1, x0) * (1.0 - fx) + at(y0 + 1, x0 + 1) * fx;
            out.push(top * (1.0 - fy) + bottom * fy);
        }
    }
    out
}

/// One map's terrains: water in the lowest noise, hills in the highest, forest and grass between
/// (thresholds vary per map), then one or two roads walked from one edge to another.
fn terrain(side: usize, rng: &mut Rng) -> Vec<u8> {
    let coarse = noise(side, (side / 4).max(2), rng);
    let fine = noise(side, (side / 2).max(2), rng);
    let field: Vec<f64> = coarse.iter().zip(&fine).map(|(a, b)| (2.0 * a + b) / 3.0).collect();
    let mut sorted = field.clone();
    sorted.sort_by(f64::total_cmp);
    let quantile = |q: f64| sorted[((sorted.len() - 1) as f64 * q) as usize];
    let water = quantile(0.08 + 0.12 * rng.unit());
    let grass = quantile(0.45 + 0.15 * rng.unit());
    let forest = quantile(0.75 + 0.12 * rng.unit());
    let mut t: Vec<u8> = field
        .iter()
        .map(|&v| match v {
            v if v <= water => 4,
            v if v <= grass => 1,
            v if v <= forest => 2,
            _ => 3,
        })
        .collect();
    for _ in 0..1 + rng.below(2) {
        road(&mut t, side, rng);
    }
    t
}

/// A road from a random cell of one edge across to the opposite edge, drifting sideways.
fn road(t: &mut [u8], side: usize, rng: &mut Rng) {
    let across = rng.below(2) == 0;
    let mut lateral = rng.below(side) as i64;
    for step in 0..side {
        let cell = if across { lateral as usize * side + step } else { step * side + lateral as usize };
        t[cell] = 0;
        if rng.unit() < 0.35 {
            let drift = if rng.below(2) == 0 { -1 } else { 1 };
            let next = (lateral + drift).clamp(0, side as i64 - 1);
            if next != lateral {
                // A sideways step paves the corner too, so the road stays connected.
                let corner = if across { next as usize * side + step } else { step * side + next as usize };
                t[corner] = 0;
                lateral = next;
            }
        }
    }
}

/// Sensor-like noise for one pixel's three channels: each the sum of two uniform draws (a
/// triangular distribution of standard deviation `scale`), from one 64-bit draw — maps are
/// millions of pixels.
fn grain(rng: &mut Rng, scale: f64) -> [f64; 3] {
    let bits = rng.next_u64();
    let unit = |k: u32| ((bits >> (10 * k)) & 0x3FF) as f64 / 1023.0;
    // The sum of two uniforms on [0, 1], less 1, has variance 1/6.
    [0, 1, 2].map(|c| (unit(2 * c) + unit(2 * c + 1) - 1.0) * scale * 6f64.sqrt())
}

/// The map's pixels, (8k, 8k, 3) row-major: each tile drawn by its terrain's painter.
fn draw(terrain: &[u8], side: usize, rng: &mut Rng) -> Vec<u8> {
    let width = side * TILE;
    let light = 0.85 + 0.3 * rng.unit();
    let mut img = vec![0u8; width * width * 3];
    for (cell, &kind) in terrain.iter().enumerate() {
        let tile = paint(kind, rng);
        let shade = light * (0.92 + 0.16 * rng.unit());
        let (r0, c0) = (cell / side * TILE, cell % side * TILE);
        for (i, rgb) in tile.iter().enumerate() {
            let at = ((r0 + i / TILE) * width + c0 + i % TILE) * 3;
            let noise = grain(rng, 9.0);
            for ch in 0..3 {
                img[at + ch] = (rgb[ch] * shade + noise[ch]).clamp(0.0, 255.0) as u8;
            }
        }
    }
    img
}

/// One 8×8 tile of a terrain, before light and noise.
fn paint(kind: u8, rng: &mut Rng) -> [[f64; 3]; TILE * TILE] {
    let mix = |a: [f64; 3], b: [f64; 3], w: f64| [0, 1, 2].map(|i| a[i] * (1.0 - w) + b[i] * w);
    let jitter = |rng: &mut Rng, c: [f64; 3]| c.map(|x| x * (0.94 + 0.12 * rng.unit()));
    let mut px = [[0.0; 3]; TILE * TILE];
    match kind {
        // Road: packed sand with two darker wheel ruts along a random direction.
        0 => {
            let (sand, rut) = (jitter(rng, [178.0, 150.0, 100.0]), [128.0, 104.0, 70.0]);
            let (horizontal, offset) = (rng.below(2) == 0, rng.below(2));
            for (i, p) in px.iter_mut().enumerate() {
                let across = if horizontal { i / TILE } else { i % TILE };
                *p = if across == 2 + offset || across == 5 + offset { mix(sand, rut, 0.6) } else { sand };
            }
        }
        // Grass: green with lighter blades scattered.
        1 => {
            let (green, blade) = (jitter(rng, [82.0, 150.0, 60.0]), [150.0, 200.0, 90.0]);
            for p in px.iter_mut() {
                *p = if rng.unit() < 0.18 { mix(green, blade, 0.7) } else { green };
            }
        }
        // Forest: dark undergrowth under two to four round crowns lit from the top left.
        2 => {
            let (ground, crown, lit) = (jitter(rng, [40.0, 80.0, 36.0]), [24.0, 110.0, 34.0], [90.0, 160.0, 70.0]);
            px = [ground; TILE * TILE];
            for _ in 0..2 + rng.below(3) {
                let (cy, cx) = (rng.below(TILE) as f64, rng.below(TILE) as f64);
                for (i, p) in px.iter_mut().enumerate() {
                    let (dy, dx) = ((i / TILE) as f64 - cy, (i % TILE) as f64 - cx);
                    let d = (dy * dy + dx * dx).sqrt();
                    if d <= 2.2 {
                        *p = if dy + dx < -1.0 { lit } else { crown };
                    }
                }
            }
        }
        // Hills: grey-brown rock with light diagonal ridges and their shadows.
        3 => {
            let (rock, ridge, shadow) = (jitter(rng, [132.0, 118.0, 100.0]), [196.0, 186.0, 170.0], [80.0, 70.0, 60.0]);
            let phase = rng.below(4);
            for (i, p) in px.iter_mut().enumerate() {
                *p = match ((i / TILE) + (i % TILE) + phase) % 4 {
                    0 => ridge,
                    1 => shadow,
                    _ => rock,
                };
            }
        }
        // Water: blue with light horizontal wave crests at a random phase.
        _ => {
            let (deep, crest) = (jitter(rng, [40.0, 80.0, 170.0]), [120.0, 160.0, 225.0]);
            let phase = rng.unit() * std::f64::consts::TAU;
            for (i, p) in px.iter_mut().enumerate() {
                let (y, x) = ((i / TILE) as f64, (i % TILE) as f64);
                let wave = ((y * 1.6 + (x * 0.8 + phase).sin() * 1.2) + phase).sin();
                *p = if wave > 0.75 { mix(deep, crest, 0.7) } else { deep };
            }
        }
    }
    px
}

/// The published files of a split: its maps (bytes), shortest paths (bytes, 0/1) and vertex
/// weights (`float32`, the costs).
pub fn files(name: &str, split: &Split) -> Vec<(String, Vec<u8>)> {
    let (n, k, width) = (split.maps(), split.side, split.side * TILE);
    let path: Vec<u8> = split.on_path.iter().map(|&b| b as u8).collect();
    let weights: Vec<u8> =
        split.terrain.iter().flat_map(|&t| (COSTS[t as usize] as f32 / 10.0).to_le_bytes()).collect();
    vec![
        (format!("{name}_maps.npy"), npz::npy("|u1", &[n, width, width, 3], &split.pixels)),
        (format!("{name}_shortest_paths.npy"), npz::npy("|u1", &[n, k, k], &path)),
        (format!("{name}_vertex_weights.npy"), npz::npy("<f4", &[n, k, k], &weights)),
    ]
}

/// A split from its published files' bytes (maps, shortest paths, vertex weights).
pub fn parse(maps: &[u8], paths: &[u8], weights: &[u8]) -> Result<Split, String> {
    let maps = npz::raw(maps).map_err(|e| format!("maps: {e}"))?;
    let n = maps.shape.first().copied().unwrap_or(0);
    let width = maps.shape.get(1).copied().unwrap_or(0);
    if maps.shape.len() != 4
        || maps.shape[2] != width
        || maps.shape[3] != 3
        || width % TILE != 0
        || (maps.kind, maps.size) != ('u', 1)
    {
        return Err(format!(
            "maps: expected bytes shaped (maps, 8k, 8k, 3), found shape {:?} of `{}{}`",
            maps.shape, maps.kind, maps.size
        ));
    }
    let side = width / TILE;
    let grid = |name: &str, bytes: &[u8]| {
        let a = npz::parse_npy(bytes).map_err(|e| format!("{name}: {e}"))?;
        if a.shape != [n, side, side] {
            return Err(format!("{name}: expected shape ({n}, {side}, {side}) beside the maps, found {:?}", a.shape));
        }
        Ok(match a.elements {
            npz::Elements::Ints(v) => v.into_iter().map(|x| x as f64).collect::<Vec<f64>>(),
            npz::Elements::Floats(v) => v,
        })
    };
    let on_path = grid("shortest paths", paths)?
        .into_iter()
        .map(|x| match x {
            0.0 => Ok(false),
            1.0 => Ok(true),
            x => Err(format!("shortest paths: a cell is {x}, not 0 or 1")),
        })
        .collect::<Result<_, _>>()?;
    let terrain = grid("vertex weights", weights)?
        .into_iter()
        .map(|w| {
            terrain_of(w)
                .ok_or_else(|| format!("vertex weights: {w} is none of the five costs 0.8, 1.2, 5.3, 7.7, 9.2"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Split { side, pixels: maps.data.to_vec(), terrain, on_path })
}

/// The terrain whose cost a published vertex weight is (0.8 → road, …), if it is one of the five.
pub fn terrain_of(weight: f64) -> Option<u8> {
    COSTS.iter().position(|&c| (c as f64 / 10.0 - weight).abs() < 1e-3).map(|t| t as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_have_every_terrain_and_their_labels_are_cheapest_paths() {
        let config = Config { side: 12, maps: [20, 2, 2], seed: 3 };
        let [train, val, test] = generate(&config);
        assert_eq!((train.maps(), val.maps(), test.maps()), (20, 2, 2));
        assert_eq!(train.pixels.len(), 20 * 96 * 96 * 3);
        let mut seen = [0usize; 5];
        train.terrain.iter().for_each(|&t| seen[t as usize] += 1);
        assert!(seen.iter().all(|&n| n > 20 * 144 / 50), "every terrain is common: {seen:?}");
        for m in 0..20 {
            let cells = m * 144..(m + 1) * 144;
            let costs: Vec<i64> = train.terrain[cells.clone()].iter().map(|&t| COSTS[t as usize]).collect();
            assert_eq!(train.on_path[cells].to_vec(), path::shortest(&costs, 12));
        }
        assert_eq!(generate(&config)[0], train, "seeded");
        assert_ne!(train.pixels[..96 * 96 * 3], train.pixels[96 * 96 * 3..2 * 96 * 96 * 3]);
    }

    #[test]
    fn tiles_are_cut_channels_first() {
        let config = Config { side: 2, maps: [1, 0, 0], seed: 1 };
        let [split, _, _] = generate(&config);
        let tiles = split.clone().into_tiles();
        assert_eq!(tiles.len(), 4 * 3 * 64);
        // Tile 3 (bottom right), channel 1 (green), pixel (2, 5) is map pixel (10, 13).
        assert_eq!(tiles[3 * 192 + 64 + 2 * 8 + 5], split.pixels[(10 * 16 + 13) * 3 + 1]);
        assert_eq!(terrain_of(5.3), Some(2));
        assert_eq!(terrain_of(5.0), None);
    }

    #[test]
    fn the_published_layout_round_trips_and_wrong_arrays_are_named() {
        let [split, ..] = generate(&Config { side: 3, maps: [4, 0, 0], seed: 9 });
        let files = files("train", &split);
        assert_eq!(
            files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>(),
            ["train_maps.npy", "train_shortest_paths.npy", "train_vertex_weights.npy"]
        );
        assert_eq!(parse(&files[0].1, &files[1].1, &files[2].1).unwrap(), split);
        let err = parse(&files[0].1, &files[2].1, &files[2].1).unwrap_err();
        assert!(err.starts_with("shortest paths: a cell is"), "{err}");
        let err = parse(&files[1].1, &files[1].1, &files[2].1).unwrap_err();
        assert!(err.contains("expected bytes shaped (maps, 8k, 8k, 3)"), "{err}");
    }
}
