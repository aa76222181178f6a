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
