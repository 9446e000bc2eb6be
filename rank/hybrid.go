package rank

import "strconv"

// Method is a way to fuse the two sides of a hybrid search.
type Method int

const (
	// MethodAgreement is AgreementFuse with the lexical side as anchor.
	MethodAgreement Method = iota
	// MethodRRF is RRF of the two rankings.
	MethodRRF
	// MethodWeighted is Fuse with weights VectorWeight and 1 − VectorWeight.
	MethodWeighted
)

// String returns "agreement", "rrf" or "weighted".
func (m Method) String() string {
	switch m {
	case MethodAgreement:
		return "agreement"
	case MethodRRF:
		return "rrf"
	case MethodWeighted:
		return "weighted"
	}
	return "Method(" + strconv.Itoa(int(m)) + ")"
}

// HybridParams are the parameters of Hybrid.
type HybridParams struct {
	Method Method
	// RRFK is RRF's k; <= 0 means DefaultRRFK.
	RRFK int
	// VectorWeight is the vector side's weight in MethodWeighted, and its
	// weight at full agreement in MethodAgreement; outside (0, 1] it means
	// 0.5 (DefaultAgreementWeight).
	VectorWeight float64
}

// Hybrid fuses the vector and lexical sides of a hybrid search (each best
// first) as p says. It is the one definition of hybrid fusion shared by
// the pipeline and the tuner, so that a setting scored offline behaves the
// same in a search. An unknown Method fuses by MethodAgreement.
func Hybrid(vector, lexical []Scored, p HybridParams) []Scored {
	w := p.VectorWeight
	if !(w > 0 && w <= 1) {
		w = DefaultAgreementWeight
	}
	switch p.Method {
	case MethodRRF:
		return RRF(p.RRFK, IDs(vector), IDs(lexical))
	case MethodWeighted:
		return Fuse(ScoredList{Items: vector, Weight: w}, ScoredList{Items: lexical, Weight: 1 - w})
	}
	return AgreementFuse(lexical, vector, w, DefaultAgreementDepth)
}
