package chunk

// ReferenceCL100K returns tiktoken-go's cl100k_base, for benchmarks in the
// external test package.
func ReferenceCL100K() (Tokenizer, error) { return loadEncoding("cl100k_base") }
