//! Poker hands: the game's classification, and test hands generated as uniform 5-card draws.
//!
//! The UCI test file (1,000,000 hands) is often not at hand; the benchmark's test set is then
//! generated with a fixed seed, in the UCI layout (`S1,C1,...,S5,C5,CLASS`, suits 1–4, ranks
//! 1–13 with the ace as 1), and labelled by the rules of poker.

use crate::rng::Rng;
use std::fmt::Write;

/// Hands in the generated test set, as many as in the UCI test file.
pub const TEST_HANDS: usize = 1_000_000;
/// The generated test set's seed: fixed, so that every run is evaluated on the same hands.
pub const TEST_SEED: u64 = 1_000_000;

/// A card: suit 1–4 and rank 1–13 (ace = 1).
pub type Card = (u8, u8);

/// The UCI class of a hand: 0 nothing, 1 one pair, 2 two pairs, 3 three of a kind, 4 straight,
/// 5 flush, 6 full house, 7 four of a kind, 8 straight flush, 9 royal flush.
pub fn class(hand: &[Card; 5]) -> u8 {
    let mut ranks = hand.map(|(_, r)| r);
    ranks.sort_unstable();
    let flush = hand.iter().all(|&(s, _)| s == hand[0].0);
    let distinct = ranks.windows(2).all(|w| w[0] != w[1]);
    let ace_high = ranks == [1, 10, 11, 12, 13];
    let straight = distinct && (ranks[4] - ranks[0] == 4 || ace_high);
    // How many cards share a rank with each card, largest first: [4, 1], [3, 2], [2, 2, 1], ...
    let mut groups: Vec<u8> = Vec::with_capacity(5);
    for w in ranks.chunk_by(|a, b| a == b) {
        groups.push(w.len() as u8);
    }
    groups.sort_unstable_by(|a, b| b.cmp(a));
    match (flush, straight, groups.as_slice()) {
        (true, true, _) if ace_high => 9,
        (true, true, _) => 8,
        (_, _, [4, ..]) => 7,
        (_, _, [3, 2]) => 6,
        (true, false, _) => 5,
        (false, true, _) => 4,
        (_, _, [3, ..]) => 3,
        (_, _, [2, 2, ..]) => 2,
        (_, _, [2, ..]) => 1,
        _ => 0,
    }
}

/// `n` hands drawn uniformly without replacement from a 52-card deck, in the order drawn.
pub fn draw(n: usize, seed: u64) -> Vec<[Card; 5]> {
    let mut rng = Rng::new(seed);
    let mut deck: [Card; 52] = std::array::from_fn(|i| ((i / 13) as u8 + 1, (i % 13) as u8 + 1));
    (0..n)
        .map(|_| {
            // A partial Fisher–Yates shuffle: the first five cards are a uniform draw.
            for i in 0..5 {
                let j = i + rng.below(52 - i);
                deck.swap(i, j);
            }
            std::array::from_fn(|i| deck[i])
        })
        .collect()
}

/// Hands in the UCI layout, one per line, each with its class.
pub fn csv(hands: &[[Card; 5]]) -> String {
    let mut out = String::with_capacity(hands.len() * 32);
    for hand in hands {
        for (s, r) in hand {
            let _ = write!(out, "{s},{r},");
        }
        let _ = writeln!(out, "{}", class(hand));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_hand_of_each_class() {
        let hands: [([Card; 5], u8); 10] = [
            ([(1, 2), (2, 5), (3, 9), (4, 11), (1, 13)], 0),
            ([(1, 2), (2, 2), (3, 9), (4, 11), (1, 13)], 1),
            ([(1, 2), (2, 2), (3, 9), (4, 9), (1, 13)], 2),
            ([(1, 9), (2, 2), (3, 9), (4, 9), (1, 13)], 3),
            ([(1, 10), (2, 11), (3, 12), (4, 13), (1, 1)], 4),
            ([(3, 2), (3, 5), (3, 9), (3, 11), (3, 13)], 5),
            ([(1, 9), (2, 2), (3, 9), (4, 9), (1, 2)], 6),
            ([(1, 9), (2, 9), (3, 9), (4, 9), (1, 2)], 7),
            ([(2, 5), (2, 1), (2, 3), (2, 2), (2, 4)], 8),
            ([(4, 12), (4, 10), (4, 1), (4, 13), (4, 11)], 9),
        ];
        for (hand, c) in hands {
            assert_eq!(class(&hand), c, "{hand:?}");
        }
        // An ace is not low and high at once: Q K A 2 3 is nothing.
        assert_eq!(class(&[(1, 12), (2, 13), (3, 1), (4, 2), (1, 3)]), 0);
    }

    #[test]
    fn draws_are_distinct_cards_and_seeded() {
        let hands = draw(1000, 7);
        assert_eq!(hands, draw(1000, 7));
        assert_ne!(hands, draw(1000, 8));
        for h in &hands {
            let mut cards = h.to_vec();
            cards.sort_unstable();
            cards.dedup();
            assert_eq!(cards.len(), 5, "{h:?}");
        }
    }

    /// The share of each class among 200,000 draws is within 5 standard errors of its exact
    /// probability (counts of the 2,598,960 distinct hands).
    #[test]
    fn classes_follow_the_exact_odds() {
        let exact = [1_302_540.0, 1_098_240.0, 123_552.0, 54_912.0, 10_200.0, 5_108.0, 3_744.0, 624.0, 36.0, 4.0];
        let n = 200_000;
        let mut counts = [0usize; 10];
        for h in draw(n, 3) {
            counts[class(&h) as usize] += 1;
        }
        for (c, (&k, &e)) in counts.iter().zip(&exact).enumerate() {
            let p = e / 2_598_960.0;
            let (mean, sd) = (p * n as f64, (p * (1.0 - p) * n as f64).sqrt());
            assert!((k as f64 - mean).abs() <= 5.0 * sd + 1.0, "class {c}: {k} hands, expected {mean:.1} ± {sd:.1}");
        }
    }

    #[test]
    fn csv_rows_carry_their_class() {
        let text = csv(&[[(1, 10), (1, 11), (1, 13), (1, 12), (1, 1)]]);
        assert_eq!(text, "1,10,1,11,1,13,1,12,1,1,9\n");
    }
}
