package codegen

import (
	"go/types"
	"strings"
	"unicode"
)

// namer hands out package-level names that collide neither with each other nor
// with the user's declarations.
type namer struct {
	scope *types.Scope
	used  map[string]bool
}

func newNamer(pkg *types.Package) *namer {
	n := &namer{used: map[string]bool{}}
	if pkg != nil {
		n.scope = pkg.Scope()
	}
	return n
}

func (n *namer) name(base string) string {
	name := base
	for i := 2; n.used[name] || (n.scope != nil && n.scope.Lookup(name) != nil); i++ {
		name = base + itoa(i)
	}
	n.used[name] = true
	return name
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// camel turns a topic or store name into an identifier part: "user-clicks" -> "UserClicks".
func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if out == "" || unicode.IsDigit(rune(out[0])) {
		out = "T" + out
	}
	return out
}

// lowerFirst makes an identifier unexported: "ClickCount" -> "clickCount".
func lowerFirst(s string) string {
	rs := []rune(s)
	rs[0] = unicode.ToLower(rs[0])
	return string(rs)
}

// upperFirst capitalises an identifier: "clickCount" -> "ClickCount".
func upperFirst(s string) string {
	rs := []rune(s)
	rs[0] = unicode.ToUpper(rs[0])
	return string(rs)
}

// compiledName is the name of the function that returns a topology's Program; it is
// exported when the topology function is.
func compiledName(topology string) string {
	if unicode.IsUpper([]rune(topology)[0]) {
		return "Compiled" + topology
	}
	return "compiled" + upperFirst(topology)
}
