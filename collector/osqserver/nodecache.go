package osqserver

import (
	"context"
	"sync"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// nodeCache remembers node keys that checked out for Options.KeyCache,
// so a host's config, log and distributed requests do not each ask the
// database. Any process may stop a key (pkgpersist hosts, another serve
// replica enrolling the host again), so the cache also watches the
// store's key revision, at most revisionEvery apart, and forgets every
// key when it moved: a key stopped anywhere is refused here within
// min(KeyCache, revisionEvery). Only keys that checked out are kept, at
// most nodeCacheMax of them, so forged keys cannot fill it.
const (
	nodeCacheMax  = 1 << 16
	revisionEvery = time.Second
)

type nodeCache struct {
	store *store.DB
	ttl   time.Duration
	mu    sync.Mutex
	nodes map[string]cachedNode // by key hash
	// rev is the key revision the cached keys checked out under, read at
	// revAt
	rev   int64
	revAt time.Time
	// watch serialises the revision reads
	watch sync.Mutex
}

type cachedNode struct {
	node  store.Node
	until time.Time
}

func newNodeCache(st *store.DB, ttl time.Duration) *nodeCache {
	return &nodeCache{store: st, ttl: ttl, nodes: map[string]cachedNode{}}
}

// revision is the key revision as of at most revisionEvery ago, read
// again when older; the cache is emptied when it moved.
func (c *nodeCache) revision(ctx context.Context, now time.Time) (int64, error) {
	c.mu.Lock()
	rev, fresh := c.rev, now.Sub(c.revAt) < min(c.ttl, revisionEvery)
	c.mu.Unlock()
	if fresh {
		return rev, nil
	}
	c.watch.Lock()
	defer c.watch.Unlock()
	c.mu.Lock()
	rev, fresh = c.rev, now.Sub(c.revAt) < min(c.ttl, revisionEvery)
	c.mu.Unlock()
	if fresh { // another request read it meanwhile
		return rev, nil
	}
	rev, err := c.store.KeyRevision(ctx)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev != c.rev {
		clear(c.nodes)
	}
	c.rev, c.revAt = rev, now
	return rev, nil
}

// get returns the cached node of a key hash, and the revision a node
// looked up now must be put under.
func (c *nodeCache) get(ctx context.Context, hash string, now time.Time) (store.Node, int64, bool, error) {
	if c.ttl <= 0 {
		return store.Node{}, 0, false, nil
	}
	rev, err := c.revision(ctx, now)
	if err != nil {
		return store.Node{}, 0, false, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.nodes[hash]
	if !ok || now.After(e.until) {
		return store.Node{}, rev, false, nil
	}
	return e.node, rev, true, nil
}

// put keeps a node that checked out under revision rev, unless the
// revision moved since: the key may have stopped after it was read.
func (c *nodeCache) put(hash string, n store.Node, rev int64, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rev != c.rev {
		return
	}
	if len(c.nodes) >= nodeCacheMax {
		for k, e := range c.nodes {
			if now.After(e.until) || len(c.nodes) >= nodeCacheMax {
				delete(c.nodes, k)
			}
		}
	}
	c.nodes[hash] = cachedNode{node: n, until: now.Add(c.ttl)}
}
