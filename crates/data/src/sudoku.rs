//! Sudoku puzzles: solved 9×9 boards drawn at random, and puzzles made from them by removing
//! cells while the solution stays unique, down to a target number of givens — 'easy' ≈ 36 like
//! Park's 70k set, 'hard' 17–34 like Palm's RRN set. Written in their published layout: a
//! `quizzes,solutions` header, then per puzzle two fields of 81 digits (0 for an empty cell).

use crate::rng::Rng;
use std::fmt::Write;

/// A board, row-major; 0 is an empty cell.
pub type Board = [u8; 81];

/// How many givens the puzzles of a set keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Givens {
    /// Exactly this many (17–81).
    Exactly(usize),
    /// Uniform over a range, inclusive.
    Between(usize, usize),
}

impl Givens {
    /// Park's 'easy' puzzles have 36 givens on average.
    pub const EASY: Givens = Givens::Exactly(36);
    /// Palm's puzzles have 17 to 34 givens, uniformly.
    pub const HARD: Givens = Givens::Between(17, 34);

    fn draw(self, rng: &mut Rng) -> usize {
        match self {
            Givens::Exactly(n) => n,
            Givens::Between(lo, hi) => lo + rng.below(hi - lo + 1),
        }
    }
}

/// The seeds of the training and test puzzles a missing file is generated with.
pub const TRAIN_SEED: u64 = 9_000;
pub const TEST_SEED: u64 = 9_001;
/// Puzzles generated when the files are absent: enough to learn from in minutes.
pub const TRAIN_PUZZLES: usize = 10_000;
pub const TEST_PUZZLES: usize = 1_000;

/// A generated puzzle and its unique solution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Puzzle {
    pub quiz: Board,
    pub solution: Board,
}

/// The peers' bit masks of a board under construction: the digits used per row, column, box.
#[derive(Clone, Copy, Default)]
struct Used {
    rows: [u16; 9],
    cols: [u16; 9],
    boxes: [u16; 9],
}

impl Used {
    fn of(board: &Board) -> Option<Used> {
        let mut used = Used::default();
        for (cell, &d) in board.iter().enumerate() {
            if d != 0 {
                if used.candidates(cell) & (1 << d) == 0 {
                    return None;
                }
                used.set(cell, d, true);
            }
        }
        Some(used)
    }

    /// The digits (as bits 1–9) cell `cell` may still take.
    fn candidates(&self, cell: usize) -> u16 {
        let (r, c) = (cell / 9, cell % 9);
        !(self.rows[r] | self.cols[c] | self.boxes[r / 3 * 3 + c / 3]) & 0b11_1111_1110
    }

    fn set(&mut self, cell: usize, d: u8, on: bool) {
        let (r, c) = (cell / 9, cell % 9);
        let bit = 1u16 << d;
        for mask in [&mut self.rows[r], &mut self.cols[c], &mut self.boxes[r / 3 * 3 + c / 3]] {
            if on {
                *mask |= bit;
            } else {
                *mask &= !bit;
            }
        }
    }
}

/// The number of solutions of `board`, counting up to `limit`; with `rng`, the first solution
/// found tries digits in random order and is left in `board` (else `board` is unchanged).
fn solve(board: &mut Board, limit: usize, rng: Option<&mut Rng>) -> usize {
    let Some(mut used) = Used::of(board) else { return 0 };
    let mut found = 0;
    let mut rng = rng;
    search(board, &mut used, limit, &mut found, &mut rng);
    found
}

fn search(board: &mut Board, used: &mut Used, limit: usize, found: &mut usize, rng: &mut Option<&mut Rng>) -> bool {
    // The empty cell with the fewest candidates: most branches die at once.
    let mut best: Option<(usize, u16)> = None;
    for cell in (0..81).filter(|&c| board[c] == 0) {
        let cand = used.candidates(cell);
        if best.is_none_or(|(_, b)| cand.count_ones() < b.count_ones()) {
            best = Some((cell, cand));
            if cand.count_ones() <= 1 {
                break;
            }
        }
    }
    let Some((cell, cand)) = best else {
        *found += 1;
        // Keep the first solution in the board when building one.
        return *found >= limit || rng.is_some();
    };
    let mut digits: Vec<u8> = (1..=9).filter(|&d| cand & (1 << d) != 0).collect();
    if let Some(r) = rng.as_deref_mut() {
        r.shuffle(&mut digits);
    }
    for d in digits {
        board[cell] = d;
        used.set(cell, d, true);
        let stop = search(board, used, limit, found, rng);
        used.set(cell, d, false);
        if stop {
            if rng.is_none() {
                board[cell] = 0;
            }
            return true;
        }
    }
    board[cell] = 0;
    false
}

/// The number of solutions of `board`, up to `limit`.
pub fn solutions(board: &Board, limit: usize) -> usize {
    solve(&mut board.clone(), limit, None)
}

/// Whether a full board obeys the rules: every row, column and box holds 1–9 once.
pub fn valid_solution(board: &Board) -> bool {
    board.iter().all(|&d| (1..=9).contains(&d)) && Used::of(board).is_some()
}

/// A solved board drawn at random.
pub fn solved(rng: &mut Rng) -> Board {
    let mut board = [0; 81];
    solve(&mut board, 1, Some(rng));
    board
}

/// A puzzle with a unique solution and `givens` givens, made by removing the cells of a random
/// solved board in random order while the solution stays unique; a board whose cells cannot all
/// be removed down to `givens` is drawn again (up to 50 times; then the fewest givens reached).
pub fn puzzle(rng: &mut Rng, givens: usize) -> Puzzle {
    let mut best: Option<Puzzle> = None;
    for _ in 0..50 {
        let solution = solved(rng);
        let mut quiz = solution;
        let mut left = 81;
        for cell in rng.permutation(81) {
            if left == givens {
                break;
            }
            let kept = quiz[cell];
            quiz[cell] = 0;
            if solutions(&quiz, 2) == 1 {
                left -= 1;
            } else {
                quiz[cell] = kept;
            }
        }
        let p = Puzzle { quiz, solution };
        if left == givens {
            return p;
        }
        if best.as_ref().is_none_or(|b| count_givens(&b.quiz) > left) {
            best = Some(p);
        }
    }
    best.expect("fifty boards were drawn")
}

/// The givens of a board.
pub fn count_givens(board: &Board) -> usize {
    board.iter().filter(|&&d| d != 0).count()
}

/// `n` puzzles drawn with `seed`, their givens as `givens` says.
pub fn generate(n: usize, givens: Givens, seed: u64) -> Vec<Puzzle> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let target = givens.draw(&mut rng);
            puzzle(&mut rng, target)
        })
        .collect()
}

/// Puzzles in the published layout: `quizzes,solutions`, then 81 digits per board.
pub fn csv(puzzles: &[Puzzle]) -> String {
    let mut out = String::with_capacity(20 + puzzles.len() * 165);
    out.push_str("quizzes,solutions\n");
    for p in puzzles {
        p.quiz.iter().chain([&255]).chain(&p.solution).for_each(|&d| match d {
            255 => out.push(','),
            d => out.push((b'0' + d) as char),
        });
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solved_boards_obey_the_rules() {
        let mut rng = Rng::new(3);
        for _ in 0..20 {
            assert!(valid_solution(&solved(&mut rng)));
        }
        let mut broken = solved(&mut rng);
        broken.swap(0, 1);
        assert!(!valid_solution(&broken));
    }

    #[test]
    fn puzzles_have_one_solution_that_keeps_the_givens() {
        for (i, p) in generate(10, Givens::Between(24, 40), 5).iter().enumerate() {
            let n = count_givens(&p.quiz);
            assert!((24..=40).contains(&n), "puzzle {i} has {n} givens");
            assert_eq!(solutions(&p.quiz, 2), 1);
            assert!(valid_solution(&p.solution));
            assert!(p.quiz.iter().zip(&p.solution).all(|(&q, &s)| q == 0 || q == s));
        }
        assert_eq!(generate(3, Givens::EASY, 1), generate(3, Givens::EASY, 1));
    }

    #[test]
    fn counting_stops_at_the_limit() {
        // An empty board has billions of solutions.
        assert_eq!(solutions(&[0; 81], 2), 2);
        let mut two = solved(&mut Rng::new(1));
        two[0] = two[1];
        assert_eq!(solutions(&two, 2), 0);
    }

    #[test]
    fn written_in_the_published_layout() {
        let p = &generate(1, Givens::EASY, 2)[0];
        let text = csv(std::slice::from_ref(p));
        let line = text.lines().nth(1).unwrap();
        let (q, s) = line.split_once(',').unwrap();
        assert_eq!((q.len(), s.len()), (81, 81));
        assert_eq!(count_givens(&p.quiz), 36);
        assert!(text.starts_with("quizzes,solutions\n"));
    }
}
