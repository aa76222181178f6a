package rpmdb

import "reflect"

// IndexOf identifies the file index d answers from (0 when it has none):
// DBs with the same one share one walk of the database.
func IndexOf(d *DB) uintptr {
	if d.index == nil {
		return 0
	}
	return reflect.ValueOf(d.index).Pointer()
}

// IndexRef is d's file index itself: a caller comparing IndexOf's
// addresses keeps it so that the index cannot be freed and its address
// given to another one.
func IndexRef(d *DB) any { return d.index }

// SummariesOf identifies the walk list's summaries came from (0 when
// there are none): lists from one walk share their first element.
func SummariesOf(list []Summary) uintptr {
	if len(list) == 0 {
		return 0
	}
	return reflect.ValueOf(&list[0]).Pointer()
}
