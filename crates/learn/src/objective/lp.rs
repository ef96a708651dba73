//! LP pseudo-labels (ALGORITHMS.md §4; Tsamoura, Wang, Roth, NeurIPS 2025): per batch, the
//! targets Q closest to the networks' predictions P, min ⟨Q, −log P⟩, such that each row of Q is
//! a distribution, each example's Q keeps to one of its proofs (the engine's top-k models, as a
//! DNF with proof indicators α: α_l ≤ q_f for each fact f of proof l, Σ_l α_l ≥ 1), and each
//! learnable's class counts stay within ε of the batch's share of the estimated ratios r̂:
//! |Σ_i q_ik − n·r̂_k| ≤ ε. The paper starts ε at 0.99 and adds 1 until the program is feasible;
//! here, when 0.99 is not, a program finds the least ε that is, and ε is that rounded up the same
//! grid. The continuous relaxation by default, the integer program with `hard` (one-hot
//! targets). Then a cross-entropy towards Q.
//!
//! Q has a row per occurrence of an instance in an example (an image drawn into two tuples of a
//! batch gets two rows, as in the paper, so that their proofs cannot contradict each other), and
//! the counts are held per learnable over all its occurrences (the paper holds them per tuple
//! position; the positions of a tuple are drawn alike, so pooling them asks the same). A batch
//! row's targets are the sum of its occurrences'.

use super::{zeros, Batch, Objective, Signal, Stats, Targets};
use crate::emp::MovingRatios;
use crate::examples::{Example, Prepared, WeakError};
use good_lp::{
    microlp, variable, Expression, ProblemVariables, ResolutionError, Solution, SolverModel, Variable, WithTimeLimit,
};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// ε where the paper starts it; a feasible ε is this plus a whole number.
pub const EPSILON: f64 = 0.99;
/// −log p of a class the network gives (nearly) no probability: large, but finite for the solver.
const MAX_COST: f64 = 50.0;
/// Seconds the integer program may search before its best solution so far is taken.
const INTEGER_SECONDS: f64 = 10.0;

pub struct Lp {
    pub ratios: Ratios,
    /// The integer program instead of its relaxation.
    pub hard: bool,
    /// Whether the last batch needed more than ε = 0.99.
    pub widened: AtomicBool,
}

/// Per learnable, the ratios its classes' counts are held near: fixed (ALG1's, gold), or
/// EMP's, moved at each epoch's end.
pub enum Ratios {
    Fixed(Vec<Vec<f64>>),
    Moving(MovingRatios),
}

/// One proof: the (occurrence, class) facts it sets.
type Proof = Vec<(usize, usize)>;

/// One example's occurrences (learnable, batch row) and, per constraint, its proofs.
type Found = (Vec<(usize, usize)>, Vec<Vec<Proof>>);

impl Objective for Lp {
    fn moving_ratios(&self) -> Option<&MovingRatios> {
        match &self.ratios {
            Ratios::Moving(m) => Some(m),
            Ratios::Fixed(_) => None,
        }
    }

    fn signal(&self, batch: &Batch) -> Result<Signal, WeakError> {
        let found: Vec<Option<Found>> =
            batch.examples.par_iter().zip(&batch.rows.at).map(|(e, at)| proofs(e, at, batch.logp)).collect();
        // The examples' occurrences numbered one after another.
        let (mut occurrences, mut proofs) = (Vec::new(), Vec::new());
        for (mine, theirs) in found.iter().flatten() {
            let first = occurrences.len();
            occurrences.extend(mine);
            let renumber = |p: &Proof| p.iter().map(|&(o, x)| (first + o, x)).collect::<Proof>();
            proofs.extend(theirs.iter().map(|ps| ps.iter().map(renumber).collect::<Vec<_>>()));
        }
        let impossible = found.iter().filter(|f| f.is_none()).count();
        let moved;
        let ratios = match &self.ratios {
            Ratios::Fixed(r) => r,
            Ratios::Moving(m) => {
                moved = m.get();
                &moved
            }
        };
        let program = Program { logp: batch.logp, occurrences: &occurrences, proofs: &proofs, ratios, hard: self.hard };
        let widened = self.widened.load(Ordering::Relaxed);
        let (q, loss, epsilon) =
            program.solve(widened).map_err(|e| WeakError::Setup(format!("LP pseudo-labels: {e}")))?;
        self.widened.store(epsilon > EPSILON + 1e-6, Ordering::Relaxed);
        let mut targets = zeros(batch);
        for (&(l, i), q) in occurrences.iter().zip(q) {
            targets[l][i].iter_mut().zip(q).for_each(|(t, q)| *t += q);
        }
        let stats = Stats { loss, impossible, ..Stats::default() };
        Ok(Signal { targets: Some(Targets::Distributions(targets)), loss: None, stats })
    }
}

/// An example's occurrences and its constraints' proofs under the current predictions; `None`
/// when a constraint has none (the example is impossible).
fn proofs(e: &Example, at: &[Vec<(usize, usize)>], logp: &[Vec<Vec<f64>>]) -> Option<Found> {
    let mut occurrences: Vec<(usize, usize)> = Vec::new();
    let mut proofs = Vec::new();
    for (c, at) in e.constraints.iter().zip(at) {
        let Prepared::Inference(inference) = &*c.prepared else {
            unreachable!("examples trained through LP are prepared by an engine")
        };
        let logw: Vec<Vec<f64>> = at.iter().map(|&(l, i)| logp[l][i].clone()).collect();
        let found = inference.proofs(&logw).filter(|p| !p.is_empty())?;
        let mut occurrence = |v: usize| match occurrences.iter().position(|&o| o == at[v]) {
            Some(o) => o,
            None => {
                occurrences.push(at[v]);
                occurrences.len() - 1
            }
        };
        proofs.push(found.into_iter().map(|p| p.into_iter().map(|(v, x)| (occurrence(v), x)).collect()).collect());
    }
    Some((occurrences, proofs))
}

/// One batch's program.
struct Program<'a> {
    logp: &'a [Vec<Vec<f64>>],
    /// Q's rows: the (learnable, batch row) of each occurrence.
    occurrences: &'a [(usize, usize)],
    /// Per grounded constraint, the proofs one of which Q keeps to.
    proofs: &'a [Vec<Proof>],
    ratios: &'a [Vec<f64>],
    hard: bool,
}

impl Program<'_> {
    /// The pseudo-labels per occurrence, their cross-entropy with the predictions, and the ε
    /// they were held to. With `search_first`, the least feasible ε is found before ε = 0.99 is
    /// tried: the same answer, one program fewer when 0.99 is infeasible (as it tends to be in
    /// the batch after one where it was).
    fn solve(&self, search_first: bool) -> Result<(Vec<Vec<f64>>, f64, f64), ResolutionError> {
        let mut epsilon = EPSILON + 1e-9;
        let mut searched = search_first;
        if search_first {
            epsilon = self.least_on_grid()?;
        }
        loop {
            match self.build(Some(epsilon)) {
                Ok((q, _)) => {
                    let loss = self.cost().zip(q.iter().flatten()).map(|(c, q)| c * q).sum();
                    return Ok((q, loss, epsilon));
                }
                // The least feasible ε, up the paper's grid (a hair over it, for the solver's
                // rounding).
                Err(ResolutionError::Infeasible) if !searched => {
                    searched = true;
                    epsilon = epsilon.max(self.least_on_grid()?);
                }
                // The integer program may need more than its relaxation's least ε.
                Err(ResolutionError::Infeasible) if self.hard && epsilon < self.occurrences.len() as f64 => {
                    epsilon += 1.0
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The least ε any Q meets, rounded up the paper's grid (a hair over it, for the solver's
    /// rounding).
    fn least_on_grid(&self) -> Result<f64, ResolutionError> {
        let least = self.build(None)?.1;
        Ok(EPSILON + (least - EPSILON).max(0.0).ceil() + 1e-9)
    }

    /// Each q's cost −log p, in the order of the occurrences and classes.
    fn cost(&self) -> impl Iterator<Item = f64> + '_ {
        self.occurrences.iter().flat_map(|&(l, i)| self.logp[l][i].iter().map(|lp| (-lp).min(MAX_COST)))
    }

    /// With `epsilon`, the program's Q (and its cost); without, the least ε any Q meets (always
    /// the relaxation: the integer program starts its search from it).
    fn build(&self, epsilon: Option<f64>) -> Result<(Vec<Vec<f64>>, f64), ResolutionError> {
        let hard = self.hard && epsilon.is_some();
        let mut vars = ProblemVariables::new();
        let unit = || if hard { variable().binary() } else { variable().min(0.0).max(1.0) };
        let q: Vec<Vec<Variable>> =
            self.occurrences.iter().map(|&(l, i)| self.logp[l][i].iter().map(|_| vars.add(unit())).collect()).collect();
        let alphas: Vec<Vec<Variable>> =
            self.proofs.iter().map(|p| p.iter().map(|_| vars.add(unit())).collect()).collect();
        let slack = epsilon.is_none().then(|| vars.add(variable().min(0.0)));
        let objective: Expression = match slack {
            Some(e) => e.into(),
            None => q.iter().flatten().zip(self.cost()).map(|(&v, c)| c * v).sum(),
        };
        let mut model = vars.minimise(objective).using(microlp);
        if hard {
            model = model.with_time_limit(INTEGER_SECONDS);
        }
        for row in &q {
            model = model.with(row.iter().copied().sum::<Expression>().eq(1.0));
        }
        // The paper's Σ_f (1 − q_f) + α ≥ 1 only bounds α from below by what α ≤ q_f allows
        // anyway: it never binds, so it is left out.
        for (proofs, alphas) in self.proofs.iter().zip(&alphas) {
            for (proof, &alpha) in proofs.iter().zip(alphas) {
                for &(o, k) in proof {
                    model = model.with(Expression::from(alpha).leq(q[o][k]));
                }
            }
            model = model.with(alphas.iter().copied().sum::<Expression>().geq(1.0));
        }
        let width: Expression = match (slack, epsilon) {
            (Some(e), _) => e.into(),
            (None, Some(eps)) => eps.into(),
            (None, None) => unreachable!("a program has a slack or an ε"),
        };
        for (l, ratios) in self.ratios.iter().enumerate() {
            let rows: Vec<&Vec<Variable>> =
                q.iter().zip(self.occurrences).filter(|(_, o)| o.0 == l).map(|(row, _)| row).collect();
            let n = rows.len() as f64;
            for (k, r) in ratios.iter().enumerate() {
                let count: Expression = rows.iter().map(|row| row[k]).sum();
                model = model.with((count.clone() + width.clone()).geq(n * r)).with((count - width.clone()).leq(n * r));
            }
        }
        let solution = model.solve()?;
        let values = q.iter().map(|row| row.iter().map(|&v| solution.value(v).clamp(0.0, 1.0)).collect()).collect();
        Ok((values, slack.map_or(0.0, |e| solution.value(e))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two rows of two classes; the network prefers class 0 on both.
    fn logp() -> Vec<Vec<Vec<f64>>> {
        vec![vec![vec![0.9f64.ln(), 0.1f64.ln()], vec![0.8f64.ln(), 0.2f64.ln()]]]
    }

    fn solve(proofs: &[Vec<Proof>], ratios: &[f64], hard: bool) -> (Vec<Vec<f64>>, f64) {
        let logp = logp();
        let ratios = vec![ratios.to_vec()];
        let occurrences = [(0, 0), (0, 1)];
        let (q, loss, _) =
            Program { logp: &logp, occurrences: &occurrences, proofs, ratios: &ratios, hard }.solve(false).unwrap();
        (q, loss)
    }

    #[test]
    fn random_programs_meet_every_constraint_and_without_counts_take_each_best_proof() {
        let mut rng = skilang_data::rng::Rng::new(11);
        for case in 0..40 {
            // 3 constraints over disjoint pairs of 6 rows of 3 classes, 1–3 proofs each.
            let logp: Vec<Vec<Vec<f64>>> = vec![(0..6)
                .map(|_| {
                    let z: Vec<f64> = (0..3).map(|_| 4.0 * rng.unit()).collect();
                    let total = z.iter().map(|x| x.exp()).sum::<f64>().ln();
                    z.iter().map(|x| x - total).collect()
                })
                .collect()];
            let proofs: Vec<Vec<Proof>> = (0..3)
                .map(|c| {
                    (0..1 + rng.below(3)).map(|_| vec![(2 * c, rng.below(3)), (2 * c + 1, rng.below(3))]).collect()
                })
                .collect();
            let occurrences: Vec<(usize, usize)> = (0..6).map(|i| (0, i)).collect();
            let hard = case % 2 == 1;
            let ratios = vec![vec![0.6, 0.3, 0.1]];
            let program = Program { logp: &logp, occurrences: &occurrences, proofs: &proofs, ratios: &ratios, hard };
            let (q, loss, epsilon) = program.solve(false).unwrap();
            // Searching for the least ε first gives the same program.
            let (_, searched_loss, searched_epsilon) = program.solve(true).unwrap();
            assert_eq!(searched_epsilon, epsilon, "case {case}");
            assert!((searched_loss - loss).abs() < 1e-6, "case {case}: {searched_loss} vs {loss}");
            for row in &q {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-6, "case {case}: {row:?}");
            }
            for proofs in &proofs {
                let kept: f64 = proofs.iter().map(|p| p.iter().map(|&(i, k)| q[i][k]).fold(1.0, f64::min)).sum();
                assert!(kept >= 1.0 - 1e-6, "case {case}: no proof kept, {q:?} {proofs:?}");
            }
            for (k, r) in ratios[0].iter().enumerate() {
                let count: f64 = q.iter().map(|row| row[k]).sum();
                assert!((count - 6.0 * r).abs() <= epsilon + 1e-6, "case {case}: class {k}, {count} vs ε {epsilon}");
            }
            // No counts (ε = ∞): the integer program gives each constraint's rows its most
            // probable proof (the posterior mode); the relaxation costs no more than that (its
            // DNF is looser than the proofs' hull) and is that proof when there is one.
            let (q, loss, _) = Program { logp: &logp, occurrences: &occurrences, proofs: &proofs, ratios: &[], hard }
                .solve(false)
                .unwrap();
            let score = |p: &Proof| p.iter().map(|&(i, k)| logp[0][i][k]).sum::<f64>();
            let mut mode = 0.0;
            for proofs in &proofs {
                let best = proofs.iter().max_by(|a, b| score(a).total_cmp(&score(b))).unwrap();
                mode -= score(best);
                if hard || proofs.len() == 1 {
                    assert!(best.iter().all(|&(i, k)| q[i][k] > 1.0 - 1e-6), "case {case}: {q:?} vs {best:?}");
                }
            }
            assert!(loss <= mode + 1e-6, "case {case}: {loss} vs the mode's {mode}");
        }
    }

    #[test]
    fn without_a_binding_count_q_is_each_examples_most_probable_proof() {
        // Row 0 must be class 0 or row 1 class 1 (two proofs); the counts want class 0.
        let proofs = vec![vec![vec![(0, 0)], vec![(1, 1)]]];
        let (q, loss) = solve(&proofs, &[1.0, 0.0], false);
        assert_eq!(q, vec![vec![1.0, 0.0], vec![1.0, 0.0]]);
        assert!((loss - (-(0.9f64.ln()) - 0.8f64.ln())).abs() < 1e-6);
    }

    #[test]
    fn counts_move_the_cheapest_rows_to_the_rare_class() {
        // No proof to keep to; half of each class within ε = 0.99: the integer program moves
        // one whole row to class 1 — row 1, where class 1 costs least — and the relaxation
        // just enough of it.
        let proofs: Vec<Vec<Proof>> = Vec::new();
        let (q, _) = solve(&proofs, &[0.5, 0.5], true);
        assert_eq!(q, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        let (q, _) = solve(&proofs, &[0.5, 0.5], false);
        assert_eq!(q[0], vec![1.0, 0.0]);
        assert!((q[1][1] - 0.01).abs() < 1e-6, "{q:?}");
    }

    #[test]
    fn proofs_win_over_counts_and_every_constraint_holds() {
        // The only proof pins row 0 to class 0 although the ratios want class 1 everywhere:
        // ε grows until feasible, and Q keeps to the proof.
        let proofs = vec![vec![vec![(0, 0)]]];
        for hard in [false, true] {
            let (q, _) = solve(&proofs, &[0.0, 1.0], hard);
            assert!(q[0][0] > 0.999, "hard {hard}: {q:?}");
            for row in &q {
                assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-6);
            }
        }
    }
}
