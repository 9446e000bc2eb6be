package rank

// DefaultAgreementDepth is how many of the first items of each list
// Agreement compares: 10, the depth users read and nDCG@10 scores.
const DefaultAgreementDepth = 10

// DefaultAgreementWeight is the weight AgreementFuse gives the other list
// when the two lists agree completely: 0.5, an equal vote.
const DefaultAgreementWeight = 0.5

// minOtherWeight is the weight of the other list when the lists share
// nothing: small enough to leave the anchor's order as it is, large
// enough that the other list's own items keep its order after them.
const minOtherWeight = 1e-6

// Agreement is the overlap of the first k IDs of two ranked lists: the
// number of IDs both hold among their first k, divided by k (by the
// length of the shorter list when it is shorter than k), in [0, 1]. It is
// 0 when either list is empty; k <= 0 means DefaultAgreementDepth. An ID
// repeated within a list counts once.
func Agreement(a, b []string, k int) float64 {
	if k <= 0 {
		k = DefaultAgreementDepth
	}
	n := min(k, len(a), len(b))
	if n == 0 {
		return 0
	}
	in := make(map[string]struct{}, n)
	for _, id := range a[:n] {
		in[id] = struct{}{}
	}
	shared := 0
	for _, id := range b[:n] {
		if _, ok := in[id]; ok {
			shared++
			delete(in, id) // a repeated ID counts once
		}
	}
	return float64(shared) / float64(n)
}

// AgreementFuse fuses an anchor list with another by Fuse (weighted sum
// of min-max normalised scores), giving the other list the weight
//
//	w = maxWeight · Agreement(anchor, other, k)
//
// and the anchor 1 − w. maxWeight outside (0, 1] means
// DefaultAgreementWeight and k <= 0 means DefaultAgreementDepth.
//
// What it assumes: the anchor is the list that is reliable on its own
// (for hybrid search, the lexical side: BM25 is a strong baseline on
// almost every collection), and the other list may be anything from
// excellent to noise. Two lists that agree on their first items are
// likely both right, so mixing them helps; a list that shares nothing
// with the anchor is likely noise for this query, and gets (almost) no
// vote. A random other list therefore cannot drag the result far below
// the anchor, while one that agrees with it adds its evidence. The price:
// an other list that is better than the anchor but disagrees with it is
// underused; when that is the case, measure and choose a fusion (package
// tune).
//
// When the lists share nothing, the other list still gets a vanishing
// weight, so the items only it holds follow the anchor's in its order.
// When one list is empty the result is the other alone, normalised. Ties
// are broken by ID, as in Fuse; the inputs are not modified.
func AgreementFuse(anchor, other []Scored, maxWeight float64, k int) []Scored {
	if !(maxWeight > 0 && maxWeight <= 1) {
		maxWeight = DefaultAgreementWeight
	}
	var w float64
	switch {
	case len(anchor) == 0:
		w = 1
	case len(other) == 0:
		w = 0
	default:
		w = max(maxWeight*Agreement(IDs(anchor), IDs(other), k), minOtherWeight)
	}
	return Fuse(ScoredList{Items: anchor, Weight: 1 - w}, ScoredList{Items: other, Weight: w})
}
