package server

import (
	"fmt"
	"math"
	"reflect"
	"sync"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// MaxStringLen is the longest string a Kafka response can carry: STRING
// has an int16 length, and Kafka holds COMPACT_STRING to the same limit.
const MaxStringLen = math.MaxInt16

// fitResponse makes every field of msg expressible on the wire: strings
// (nullable or not) longer than MaxStringLen are cut at a UTF-8 boundary,
// and arrays and byte fields longer than an int32 length make it an error
// (nothing can be cut from those without changing their meaning). It
// returns the number of strings it cut.
func fitResponse(msg kmsg.Response) (cut int, err error) {
	v := reflect.ValueOf(msg)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return 0, nil
	}
	err = fitValue(v.Elem(), &cut)
	return cut, err
}

// fitPlan lists the fields of a struct type that can need fitting.
type fitPlan struct {
	fields []fitField
}

type fitField struct {
	index int
	kind  fitKind
}

type fitKind uint8

const (
	fitString     fitKind = iota // string
	fitNullString                // *string
	fitBytes                     // []byte
	fitStruct                    // nested struct with something to fit
	fitSlice                     // slice of anything else
)

var fitPlans sync.Map // reflect.Type -> *fitPlan

var tagsType = reflect.TypeFor[kmsg.Tags]()

// planFor builds (once per type) the plan of a struct type.
func planFor(t reflect.Type) *fitPlan {
	if p, ok := fitPlans.Load(t); ok {
		return p.(*fitPlan)
	}
	p := &fitPlan{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || f.Type == tagsType {
			continue
		}
		switch ft := f.Type; {
		case ft.Kind() == reflect.String:
			p.fields = append(p.fields, fitField{i, fitString})
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.String:
			p.fields = append(p.fields, fitField{i, fitNullString})
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Uint8:
			p.fields = append(p.fields, fitField{i, fitBytes})
		case ft.Kind() == reflect.Slice:
			p.fields = append(p.fields, fitField{i, fitSlice})
		case ft.Kind() == reflect.Struct && len(planFor(ft).fields) > 0:
			p.fields = append(p.fields, fitField{i, fitStruct})
		}
	}
	fitPlans.Store(t, p)
	return p
}

// elemNeedsVisit reports whether the elements of a slice type can hold
// anything to fit.
func elemNeedsVisit(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Slice:
		return true
	case reflect.Pointer:
		return t.Elem().Kind() == reflect.String
	case reflect.Struct:
		return len(planFor(t).fields) > 0
	}
	return false
}

func fitValue(v reflect.Value, cut *int) error {
	switch v.Kind() {
	case reflect.Struct:
		for _, f := range planFor(v.Type()).fields {
			fv := v.Field(f.index)
			switch f.kind {
			case fitString:
				if fv.Len() > MaxStringLen {
					fv.SetString(cutString(fv.String()))
					*cut++
				}
			case fitNullString:
				if !fv.IsNil() && fv.Elem().Len() > MaxStringLen {
					s := cutString(fv.Elem().String())
					fv.Set(reflect.ValueOf(&s))
					*cut++
				}
			case fitBytes:
				if int64(fv.Len()) > math.MaxInt32 {
					return fmt.Errorf("server: %s.%s is %d bytes, more than a response can carry", v.Type().Name(), v.Type().Field(f.index).Name, fv.Len())
				}
			case fitStruct:
				if err := fitValue(fv, cut); err != nil {
					return err
				}
			case fitSlice:
				if err := fitSliceValue(fv, v.Type().Name()+"."+v.Type().Field(f.index).Name, cut); err != nil {
					return err
				}
			}
		}
	case reflect.String:
		if v.Len() > MaxStringLen {
			v.SetString(cutString(v.String()))
			*cut++
		}
	case reflect.Pointer:
		if !v.IsNil() && v.Elem().Kind() == reflect.String && v.Elem().Len() > MaxStringLen {
			s := cutString(v.Elem().String())
			v.Set(reflect.ValueOf(&s))
			*cut++
		}
	case reflect.Slice:
		return fitSliceValue(v, v.Type().String(), cut)
	}
	return nil
}

func fitSliceValue(v reflect.Value, name string, cut *int) error {
	if int64(v.Len()) > math.MaxInt32-1 { // compact arrays carry length+1
		return fmt.Errorf("server: %s has %d elements, more than a response can carry", name, v.Len())
	}
	if !elemNeedsVisit(v.Type().Elem()) {
		return nil
	}
	for i := 0; i < v.Len(); i++ {
		if err := fitValue(v.Index(i), cut); err != nil {
			return err
		}
	}
	return nil
}

// cutString shortens s to at most MaxStringLen bytes without splitting a
// UTF-8 sequence.
func cutString(s string) string {
	if len(s) <= MaxStringLen {
		return s
	}
	n := MaxStringLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
