package osqserver

import (
	"sync"
	"time"

	"github.com/pkgpersist/pkgpersist/collector/store"
)

// nodeCache remembers node keys that checked out for Options.KeyCache,
// so a host's config, log and distributed requests do not each ask the
// database: a revocation (pkgpersist hosts, another process) takes effect
// within that time. Only keys that checked out are kept, at most
// nodeCacheMax of them, so forged keys cannot fill it.
const nodeCacheMax = 1 << 16

type nodeCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	nodes map[string]cachedNode // by key hash
}

type cachedNode struct {
	node  store.Node
	until time.Time
}

func newNodeCache(ttl time.Duration) *nodeCache {
	return &nodeCache{ttl: ttl, nodes: map[string]cachedNode{}}
}

func (c *nodeCache) get(hash string, now time.Time) (store.Node, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.nodes[hash]
	if !ok || now.After(e.until) {
		return store.Node{}, false
	}
	return e.node, true
}

func (c *nodeCache) put(hash string, n store.Node, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.nodes) >= nodeCacheMax {
		for k, e := range c.nodes {
			if now.After(e.until) || len(c.nodes) >= nodeCacheMax {
				delete(c.nodes, k)
			}
		}
	}
	c.nodes[hash] = cachedNode{node: n, until: now.Add(c.ttl)}
}
