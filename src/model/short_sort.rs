//! A stable sort for the short lists the thread reorders (mode changes, failures a refetch
//! found). `slice::sort_by_key` brings its own copy of the standard library's stable sort for
//! each element type, about 3 KB of wasm apiece; an insertion sort is a few hundred bytes, and
//! on these lists, short and nearly in order already, it does no more work.

/// Sorts `items` by `key`, keeping the order of equal keys.
pub fn sort_short_by_key<T, K: Ord>(items: &mut [T], key: impl Fn(&T) -> K) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && key(&items[j - 1]) > key(&items[j]) {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::sort_short_by_key;

    #[test]
    fn sorts_by_the_key_and_keeps_equal_keys_in_their_order() {
        let mut items = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e'), (0, 'f')];
        sort_short_by_key(&mut items, |&(k, _)| k);
        assert_eq!(
            items,
            [(0, 'f'), (1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]
        );
    }

    #[test]
    fn matches_the_standard_stable_sort() {
        // A fixed pseudo-random sequence with many ties.
        let mut x = 7u32;
        let mut items: Vec<(u32, usize)> = (0..200)
            .map(|i| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                ((x >> 16) % 17, i)
            })
            .collect();
        let mut expected = items.clone();
        expected.sort_by_key(|&(k, _)| k);
        sort_short_by_key(&mut items, |&(k, _)| k);
        assert_eq!(items, expected);
    }

    #[test]
    fn empty_and_single_lists_are_left_alone() {
        let mut none: Vec<u8> = vec![];
        sort_short_by_key(&mut none, |&k| k);
        let mut one = vec![5];
        sort_short_by_key(&mut one, |&k| k);
        assert_eq!((none, one), (vec![], vec![5]));
    }
}
