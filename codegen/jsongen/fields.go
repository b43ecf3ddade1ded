package jsongen

import (
	"cmp"
	"go/types"
	"reflect"
	"slices"
	"strings"
	"unicode"
)

// field is one JSON member of a struct, found as encoding/json's typeFields
// finds them: exported fields and those promoted from embedded structs, named by
// their tag or Go name, with Go's embedding rules (changed by tags) deciding
// which of several same-named fields survives.
type field struct {
	name      string       // the JSON name
	tagged    bool         // the name came from a tag
	index     []int        // field indexes from the outer struct
	path      []*types.Var // the Go fields along index, for the selector
	typ       types.Type   // the field's type
	omitEmpty bool
	omitZero  bool
	quoted    bool // the ",string" option on a type it applies to
}

// structFields returns the JSON members of struct type t in field order: the
// candidates, then for each name the one that dominates.
func structFields(t types.Type) []field {
	return dominantFields(candidateFields(t))
}

// candidateFields walks t and its embedded structs breadth first, as
// typeFields does, and returns every named field found, with duplicates where
// a struct was embedded more than once at one depth.
func candidateFields(t types.Type) []field {
	type queued struct {
		typ   types.Type
		index []int
		path  []*types.Var
	}
	current, next := []queued{}, []queued{{typ: t}}
	var count, nextCount map[string]int
	visited := map[string]bool{}
	var fields []field
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[string]int{}
		for _, q := range current {
			key := types.TypeString(q.typ, nil)
			if visited[key] {
				continue
			}
			visited[key] = true
			st := q.typ.Underlying().(*types.Struct)
			for i := 0; i < st.NumFields(); i++ {
				sf := st.Field(i)
				if sf.Embedded() {
					et := sf.Type()
					if p, ok := et.Underlying().(*types.Pointer); ok {
						et = p.Elem()
					}
					if _, isStruct := et.Underlying().(*types.Struct); !sf.Exported() && !isStruct {
						continue
					}
				} else if !sf.Exported() {
					continue
				}
				tag := reflect.StructTag(st.Tag(i)).Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !isValidTag(name) {
					name = ""
				}
				index := append(slices.Clone(q.index), i)
				path := append(slices.Clone(q.path), sf)
				ft := sf.Type()
				if p, ok := types.Unalias(ft).(*types.Pointer); ok {
					ft = p.Elem() // an unnamed pointer is followed
				}
				_, ftStruct := ft.Underlying().(*types.Struct)
				if name != "" || !sf.Embedded() || !ftStruct {
					f := field{name: name, tagged: name != "", index: index, path: path, typ: sf.Type(),
						omitEmpty: hasOption(opts, "omitempty"), omitZero: hasOption(opts, "omitzero"),
						quoted: hasOption(opts, "string") && quotable(ft)}
					if f.name == "" {
						f.name = sf.Name()
					}
					fields = append(fields, f)
					if count[key] > 1 {
						fields = append(fields, f) // a duplicate, so that dominance drops the name
					}
					continue
				}
				fk := types.TypeString(ft, nil)
				nextCount[fk]++
				if nextCount[fk] == 1 {
					next = append(next, queued{typ: ft, index: index, path: path})
				}
			}
		}
	}
	return fields
}

// dominantFields keeps, of the fields of each name, the shallowest, a tagged
// one before an untagged one at the same depth, and none when two tie.
func dominantFields(fields []field) []field {
	slices.SortFunc(fields, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := cmp.Compare(len(a.index), len(b.index)); c != 0 {
			return c
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return +1
		}
		return slices.Compare(a.index, b.index)
	})
	out := fields[:0]
	for advance, i := 0, 0; i < len(fields); i += advance {
		for advance = 1; i+advance < len(fields) && fields[i+advance].name == fields[i].name; advance++ {
		}
		same := fields[i : i+advance]
		// Two fields at the shallowest depth, both tagged or neither: none wins.
		if len(same) > 1 && len(same[0].index) == len(same[1].index) && same[0].tagged == same[1].tagged {
			continue
		}
		out = append(out, same[0])
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

func hasOption(opts, name string) bool {
	for opts != "" {
		var o string
		o, opts, _ = strings.Cut(opts, ",")
		if o == name {
			return true
		}
	}
	return false
}

// quotable reports whether the ",string" option applies to t.
func quotable(t types.Type) bool {
	b, ok := t.Underlying().(*types.Basic)
	return ok && b.Info()&(types.IsBoolean|types.IsInteger|types.IsFloat|types.IsString) != 0 && b.Info()&types.IsComplex == 0
}

// isValidTag is encoding/json's rule for a usable tag name.
func isValidTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
