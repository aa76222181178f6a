package rpmdb

// Summary is what the tables of packages (package_scripts,
// package_origins) need of one installed package: small enough for a run
// to keep every package's for its whole life, where whole headers would
// be about twice the database. Its strings are the header's copies
// (Header.Strings copies them out of the blob): nothing in it refers to
// the buffers a walk reads records into.
type Summary struct {
	// Num is the package's record number, rpm's header instance
	// (%{DBINSTANCE}): each backend numbers a new record from a counter
	// that only grows, whatever time the installer gives, so a higher
	// number was installed later (rpm --rebuilddb numbers anew, in the
	// order the old database lists its records)
	Num                    uint32
	Name, Version, Release string
	Arch                   string // "" for gpg-pubkey, which has none
	Epoch                  int32
	HasEpoch               bool
	InstallTime            int64 // Unix seconds
	HasInstallTime         bool
	EVR                    string // as Package.EVR
	Scriptlets             []Scriptlet
}

// Summarize is p's summary.
func Summarize(p Package) Summary {
	s := Summary{Num: p.Num, Name: p.Name(), Version: p.Version(), Release: p.Release(), Arch: p.Arch(),
		EVR: p.EVR(), Scriptlets: p.Header.Scriptlets()}
	s.Epoch, s.HasEpoch = p.Epoch()
	s.InstallTime, s.HasInstallTime = p.InstallTime()
	return s
}

// Summaries are the summaries of the database's packages, in rpm's
// order, and what Packages returned: read once for every query of the
// run when the DB has the run's cache (Cached) and the database file is
// unchanged, else by a walk of the database now. A walk with problems, or
// cut short, is not kept: the next query walks again and has them too.
func (d *DB) Summaries() ([]Summary, error) {
	if err := d.open(); err != nil {
		return nil, err
	}
	if d.run == nil {
		return d.summarize()
	}
	list, ok, err := kept(d, "rpm packages", (*DB).summarize)
	// the database file replaced since the cache checked it: this DB's own
	if !ok {
		return d.summarize()
	}
	return list, err
}

// summarize walks the database, summarising each package.
func (d *DB) summarize() ([]Summary, error) {
	var out []Summary
	err := d.Packages(func(p Package) error {
		out = append(out, Summarize(p))
		return nil
	})
	return out, err
}
