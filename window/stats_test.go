package window

import (
	"reflect"
	"testing"
)

// TestStatsAddSumsEveryField sets each field of two Stats to distinct
// values and checks that Add sums every one of them: a field added to
// Stats but not to Add fails here.
func TestStatsAddSumsEveryField(t *testing.T) {
	var a, b Stats
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range va.NumField() {
		va.Field(i).SetInt(int64(1 + i))
		vb.Field(i).SetInt(int64(1000 * (1 + i)))
	}
	a.Add(b)
	for i := range va.NumField() {
		if got, want := va.Field(i).Int(), int64(1001*(1+i)); got != want {
			t.Errorf("%s: %d after Add, want %d", va.Type().Field(i).Name, got, want)
		}
	}
}
