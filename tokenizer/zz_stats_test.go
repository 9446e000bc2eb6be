package tokenizer

import (
	"fmt"
	"testing"
)

func TestZZSplit(t *testing.T) {
	tok := CL100K().(*bpeTokenizer)
	var in [65536]bool
	for _, s := range tok.decoder {
		for k := 0; k+1 < len(s); k++ {
			in[int(s[k])<<8|int(s[k+1])] = true
		}
	}
	n := 0
	for _, b := range in {
		if b {
			n++
		}
	}
	fmt.Println("pairs in tokens", n)
	for _, kind := range []string{"random-utf8", "living-scripts", "random-words"} {
		text := unknownText(kind, 1<<20)
		hist := map[int]int{}
		allSingle, pieces := 0, 0
		for i := 0; i < len(text); {
			j := cl100kNext(text, i)
			p := text[i:j]
			pieces++
			st := 0
			maxSeg := 0
			for k := 1; k <= len(p); k++ {
				if k == len(p) || !in[int(p[k-1])<<8|int(p[k])] {
					seg := k - st
					if seg > 16 {
						seg = 17
					}
					hist[seg] += k - st
					maxSeg = max(maxSeg, k-st)
					st = k
				}
			}
			if maxSeg == 1 {
				allSingle++
			}
			i = j
		}
		fmt.Println(kind, "pieces", pieces, "all single", allSingle, "bytes by segment len", hist)
	}
}
