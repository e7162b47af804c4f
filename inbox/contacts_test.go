package inbox

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestCheckTags(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
		code string
	}{
		{[]string{" vip ", "VIP", "", "paziente"}, []string{"vip", "paziente"}, ""},
		{nil, nil, ""},
		{[]string{strings.Repeat("é", MaxTag)}, []string{strings.Repeat("é", MaxTag)}, ""},
		{[]string{strings.Repeat("é", MaxTag+1)}, nil, CodeInvalidTag},
		{[]string{"a,b"}, nil, CodeInvalidTag},
		{[]string{"a\nb"}, nil, CodeInvalidTag},
		{strings.Split(strings.Repeat("t,", MaxTags+1), ","), []string{"t"}, ""}, // repeats count once
	} {
		got, err := CheckTags(c.in)
		if code := errCode(err); code != c.code || c.code == "" && !reflect.DeepEqual(got, c.want) {
			t.Errorf("CheckTags(%q) = %q, %v; want %q, %q", c.in, got, err, c.want, c.code)
		}
	}
	many := make([]string, MaxTags+1)
	for i := range many {
		many[i] = strings.Repeat("x", i+1)
	}
	if _, err := CheckTags(many); errCode(err) != CodeTooManyTags {
		t.Errorf("%d tags: %v", len(many), err)
	}
}

func TestCheckAttributes(t *testing.T) {
	got, err := CheckAttributes(map[string]string{" targa ": " AB123CD "})
	if err != nil || !reflect.DeepEqual(got, map[string]string{"targa": "AB123CD"}) {
		t.Errorf("trimmed: %v %v", got, err)
	}
	for _, in := range []map[string]string{
		{" ": "v"},
		{strings.Repeat("k", MaxAttrKey+1): "v"},
		{"k": strings.Repeat("v", MaxAttrValue+1)},
	} {
		if _, err := CheckAttributes(in); errCode(err) != CodeInvalidAttr {
			t.Errorf("%v: %v", in, err)
		}
	}
	many := map[string]string{}
	for i := 0; i <= MaxAttributes; i++ {
		many[strings.Repeat("k", i+1)] = "v"
	}
	if _, err := CheckAttributes(many); errCode(err) != CodeTooManyAttrs {
		t.Errorf("%d attributes: %v", len(many), err)
	}
}

func errCode(err error) string {
	var ie *InputError
	if errors.As(err, &ie) {
		return ie.Code
	}
	if err != nil {
		return "other: " + err.Error()
	}
	return ""
}
