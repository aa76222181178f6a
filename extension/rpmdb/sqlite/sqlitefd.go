package sqlite

/*
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// SQLite's VFS and file objects as sqlite3.h lays them out (version 3 of
// the VFS, version 1 of the I/O methods). The library itself is the one
// go-sqlite3 links into the program; these declarations only let this
// file hand it a VFS.
typedef struct sq_vfs sq_vfs;
typedef struct sq_file sq_file;
typedef struct sq_io sq_io;
struct sq_file { const sq_io *methods; };
struct sq_io {
	int iVersion;
	int (*xClose)(sq_file *);
	int (*xRead)(sq_file *, void *, int, long long);
	int (*xWrite)(sq_file *, const void *, int, long long);
	int (*xTruncate)(sq_file *, long long);
	int (*xSync)(sq_file *, int);
	int (*xFileSize)(sq_file *, long long *);
	int (*xLock)(sq_file *, int);
	int (*xUnlock)(sq_file *, int);
	int (*xCheckReservedLock)(sq_file *, int *);
	int (*xFileControl)(sq_file *, int, void *);
	int (*xSectorSize)(sq_file *);
	int (*xDeviceCharacteristics)(sq_file *);
};
struct sq_vfs {
	int iVersion;
	int szOsFile;
	int mxPathname;
	sq_vfs *pNext;
	const char *zName;
	void *pAppData;
	int (*xOpen)(sq_vfs *, const char *, sq_file *, int, int *);
	int (*xDelete)(sq_vfs *, const char *, int);
	int (*xAccess)(sq_vfs *, const char *, int, int *);
	int (*xFullPathname)(sq_vfs *, const char *, int, char *);
	void *xDlOpen, *xDlError, *xDlSym, *xDlClose;
	void *xRandomness, *xSleep, *xCurrentTime, *xGetLastError;
	void *xCurrentTimeInt64;
	void *xSetSystemCall, *xGetSystemCall, *xNextSystemCall;
};

extern sq_vfs *sqlite3_vfs_find(const char *);
extern int sqlite3_vfs_register(sq_vfs *, int);

enum {
	SQ_OK = 0,
	SQ_NOTFOUND = 12,
	SQ_CANTOPEN = 14,
	SQ_IOERR_READ = 10 | (1 << 8),
	SQ_IOERR_SHORT_READ = 10 | (2 << 8),
	SQ_IOERR_WRITE = 10 | (3 << 8),
	SQ_IOERR_TRUNCATE = 10 | (6 << 8),
	SQ_IOERR_FSTAT = 10 | (7 << 8),
	SQ_IOERR_DELETE = 10 | (10 << 8),
	SQ_OPEN_READONLY = 0x1,
	SQ_OPEN_MAIN_DB = 0x100,
	SQ_OPEN_WAL = 0x80000,
	SQ_IOCAP_IMMUTABLE = 0x2000,
};

#define PREFIX "descriptor-"

// caps is SQ_IOCAP_IMMUTABLE for a database read without its log, 0 for
// one read with it (SQLite then looks for the log, which an immutable
// file has none of).
typedef struct { sq_file base; int fd; int caps; } fd_file;

static int fd_close(sq_file *f) { close(((fd_file *)f)->fd); return SQ_OK; }

static int fd_read(sq_file *f, void *buf, int amt, long long off) {
	int fd = ((fd_file *)f)->fd;
	char *p = buf;
	int got = 0;
	while (got < amt) {
		ssize_t n = pread(fd, p + got, amt - got, off + got);
		if (n < 0) {
			if (errno == EINTR) continue;
			return SQ_IOERR_READ;
		}
		if (n == 0) break;
		got += n;
	}
	if (got < amt) {
		memset(p + got, 0, amt - got);
		return SQ_IOERR_SHORT_READ;
	}
	return SQ_OK;
}

static int fd_write(sq_file *f, const void *b, int n, long long o) { return SQ_IOERR_WRITE; }
static int fd_truncate(sq_file *f, long long n) { return SQ_IOERR_TRUNCATE; }
static int fd_sync(sq_file *f, int flags) { return SQ_OK; }

static int fd_size(sq_file *f, long long *size) {
	struct stat st;
	if (fstat(((fd_file *)f)->fd, &st) != 0) return SQ_IOERR_FSTAT;
	*size = st.st_size;
	return SQ_OK;
}

// Nothing else writes the file as far as this reader is concerned: it is
// opened immutable, so there is nothing to lock.
static int fd_lock(sq_file *f, int level) { return SQ_OK; }
static int fd_reserved(sq_file *f, int *out) { *out = 0; return SQ_OK; }
static int fd_control(sq_file *f, int op, void *arg) { return SQ_NOTFOUND; }
static int fd_sector(sq_file *f) { return 4096; }
static int fd_caps(sq_file *f) { return ((fd_file *)f)->caps; }

static const sq_io fd_io = {
	1, fd_close, fd_read, fd_write, fd_truncate, fd_sync, fd_size,
	fd_lock, fd_lock, fd_reserved, fd_control, fd_sector, fd_caps,
};

// parse_fds reads the descriptors a name gives: "descriptor-N" (the
// database alone), "descriptor-N.M" (the database N and its write-ahead
// log M) or "descriptor-N.M-wal" (that log, as SQLite names it). It
// returns the number of descriptors read (0 when the name is no such
// name) and whether the name is the log's.
static int parse_num(const char **s, long *out) {
	char *end;
	errno = 0;
	*out = strtol(*s, &end, 10);
	if (end == *s || errno != 0 || *out < 0 || *out > 0x7fffffff || **s < '0' || **s > '9') return 0;
	*s = end;
	return 1;
}

static int parse_fds(const char *name, long *db, long *wal, int *is_wal) {
	*is_wal = 0;
	if (strncmp(name, PREFIX, strlen(PREFIX)) != 0) return 0;
	const char *s = name + strlen(PREFIX);
	if (!parse_num(&s, db)) return 0;
	if (*s == 0) return 1;
	if (*s++ != '.' || !parse_num(&s, wal)) return 0;
	if (*s == 0) return 2;
	if (strcmp(s, "-wal") != 0) return 0;
	*is_wal = 1;
	return 2;
}

static int dup_regular(long n) {
	struct stat st;
	if (fstat((int)n, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
	return fcntl((int)n, F_DUPFD_CLOEXEC, 0);
}

// fd_open opens "descriptor-N" as a duplicate of this process's
// descriptor N, read-only, and a database's log as a duplicate of the
// descriptor its name gives (see parse_fds). SQLite's temporary files (no
// name) go to the default VFS, in the host's temporary directory; any
// other name is refused, so no name is ever looked up in a file system.
static int fd_open(sq_vfs *vfs, const char *name, sq_file *file, int flags, int *out) {
	sq_vfs *def = vfs->pAppData;
	file->methods = 0;
	if (name == 0) return def->xOpen(def, name, file, flags, out);
	long db = -1, wal = -1;
	int is_wal;
	int n = parse_fds(name, &db, &wal, &is_wal);
	if (n == 0) return SQ_CANTOPEN;
	int fd;
	if (is_wal) {
		// SQLite opens a log for writing; it gets it read-only, which it
		// accepts (and then never checkpoints or deletes it).
		if (!(flags & SQ_OPEN_WAL)) return SQ_CANTOPEN;
		fd = dup_regular(wal);
	} else {
		if (!(flags & SQ_OPEN_MAIN_DB) || !(flags & SQ_OPEN_READONLY)) return SQ_CANTOPEN;
		fd = dup_regular(db);
	}
	if (fd < 0) return SQ_CANTOPEN;
	((fd_file *)file)->fd = fd;
	((fd_file *)file)->caps = n == 1 ? SQ_IOCAP_IMMUTABLE : 0;
	file->methods = &fd_io;
	if (out) *out = SQ_OPEN_READONLY;
	return SQ_OK;
}

static int fd_delete(sq_vfs *v, const char *name, int sync) { return SQ_IOERR_DELETE; }

// No journal exists beside a descriptor, and a write-ahead log only when
// the database's name gives one.
static int fd_access(sq_vfs *v, const char *name, int flags, int *out) {
	long db, wal;
	int is_wal;
	*out = parse_fds(name, &db, &wal, &is_wal) == 2 && is_wal;
	return SQ_OK;
}

// SQLite's default VFS resolves symlinks in a name (readlink, then opens
// the text it read); a descriptor's name is kept as it is.
static int fd_fullpath(sq_vfs *v, const char *name, int n, char *out) {
	size_t len = strlen(name);
	if (len + 1 > (size_t)n) return SQ_CANTOPEN;
	memcpy(out, name, len + 1);
	return SQ_OK;
}

static sq_vfs fd_vfs;
static int fd_vfs_rc = -1;
static pthread_once_t fd_vfs_once = PTHREAD_ONCE_INIT;

static void fd_vfs_init(void) {
	sq_vfs *def = sqlite3_vfs_find(0);
	if (def == 0) return;
	fd_vfs = *def;
	if (fd_vfs.iVersion > 3) fd_vfs.iVersion = 3;
	fd_vfs.pNext = 0;
	fd_vfs.zName = "pkgpersist-fd";
	fd_vfs.pAppData = def;
	if ((int)sizeof(fd_file) > fd_vfs.szOsFile) fd_vfs.szOsFile = sizeof(fd_file);
	fd_vfs.mxPathname = 64;
	fd_vfs.xOpen = fd_open;
	fd_vfs.xDelete = fd_delete;
	fd_vfs.xAccess = fd_access;
	fd_vfs.xFullPathname = fd_fullpath;
	fd_vfs_rc = sqlite3_vfs_register(&fd_vfs, 0);
}

static int fd_vfs_register(void) {
	pthread_once(&fd_vfs_once, fd_vfs_init);
	return fd_vfs_rc;
}
*/
import "C"

import (
	"database/sql"
	"fmt"
	"os"

	_ "github.com/mattn/go-sqlite3" // the database/sql driver and the SQLite library the VFS joins
)

// openFD opens the SQLite database f holds, read-only and immutable,
// by its descriptor: SQLite is given a name made of the descriptor's
// number only, through a VFS that reads that descriptor and no file by
// name (SQLite's own would resolve /proc/self/fd/N back to a path). f must
// stay open until the database is closed.
func openFD(f *os.File) (*sql.DB, error) {
	return open(fmt.Sprintf("file:descriptor-%d?vfs=pkgpersist-fd&mode=ro&immutable=1", f.Fd()))
}

// OpenWithLog opens the SQLite database f holds together with its
// write-ahead log (the file beside it, name-wal), both by descriptor and
// read-only, so that transactions committed to the log and not yet
// copied into the database are seen: SQLite recovers the log into memory
// (exclusive locking mode: no shared-memory index, no -shm file) and,
// the log being read-only, never checkpoints or deletes it. Both files
// must stay open until the database is closed.
func OpenWithLog(f, wal *os.File) (*sql.DB, error) {
	return open(fmt.Sprintf("file:descriptor-%d.%d?vfs=pkgpersist-fd&mode=ro&_locking_mode=EXCLUSIVE", f.Fd(), wal.Fd()))
}

// OpenFile opens the SQLite database f holds read-only and immutable (see
// openFD), for readers of other databases than rpm's.
func OpenFile(f *os.File) (*sql.DB, error) { return openFD(f) }

func open(dsn string) (*sql.DB, error) {
	if rc := C.fd_vfs_register(); rc != 0 {
		return nil, fmt.Errorf("register SQLite's descriptor VFS: error %d", int(rc))
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	// one connection: each would open the descriptor again
	db.SetMaxOpenConns(1)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
