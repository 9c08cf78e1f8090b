package engine

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/promokit/promokit"
	"github.com/promokit/promokit/storage"
)

// Click recording (A3). GET /r/{token} must answer in well under a
// millisecond of work at ten thousand clicks a second, so a click is not
// written by its own request: it is queued in memory and a writer inserts
// the queue in one transaction every flush interval. The answer never
// waits on a disk flush; the price is that a crash loses the clicks of the
// last interval, which the redirect already answered.

const (
	// DefaultClickFlush is how long a click waits in memory at most
	// before its batch is written (Config.ClickFlush).
	DefaultClickFlush = 100 * time.Millisecond
	// maxClickBatch is the most clicks one transaction inserts, and
	// clickWriters how many transactions insert clicks at once.
	maxClickBatch = 5000
	clickWriters  = 2
	// maxClickQueue is the most clicks waiting in memory; past it a click
	// waits up to clickQueueWait for room, then is answered 503.
	maxClickQueue  = 16384
	clickQueueWait = time.Second
	// clickTargetTTL is how long a link and its store's membership are
	// trusted without asking the database. An exit takes effect at a time
	// known in advance (0:00 of the next day), which the cached membership
	// carries, so the cache only delays a join or an exit request by this
	// long.
	clickTargetTTL = time.Second
	// maxClickTargets bounds the cache; past it the cache is emptied.
	maxClickTargets = 100_000
	// maxClickText bounds the stored referrer and user agent.
	maxClickText = 500
)

// ClickInput is one opening of a link: its token, the visitor's cookie (""
// or malformed for a new visitor), and the request's referrer and user
// agent.
type ClickInput struct {
	Token     string
	VisitorID string
	Referrer  string
	UserAgent string
	// Probe asks where the link leads without opening it (a HEAD request
	// of a link checker): nothing is recorded and no visitor id is made.
	Probe bool
}

// ClickResult is where to send the visitor, and its visitor id (NewVisitor
// when it was just made, so the cookie must be set).
type ClickResult struct {
	URL        string
	VisitorID  string
	NewVisitor bool
}

// Click records a click on a link and returns where it leads. A token of
// no link is ENotFound, a link of a store whose exit took effect (or that
// is not in the program) EGone, and a link whose page the rules of page
// URLs or its store's redirect hosts refuse now (it was saved before)
// EForbidden: none records anything or leads anywhere. The click is
// queued and written within the flush interval; when the queue is full
// for a second (the database is down) the answer is EUnavailable and
// nothing is recorded, so every redirect answered is a click stored.
func (s *Service) Click(ctx context.Context, in ClickInput) (*ClickResult, error) {
	if !promokit.ValidLinkToken(in.Token) {
		return nil, promokit.Errorf(promokit.ENotFound, "no such link")
	}
	now := s.now()
	t, refused, err := s.clickTarget(ctx, in.Token, now)
	if err != nil {
		return nil, err
	}
	if !t.Membership.ActiveAt(now) {
		s.metrics.click("gone")
		return nil, promokit.Errorf(promokit.EGone, "the store of this link has left the affiliate program")
	}
	if refused != "" {
		s.metrics.click("refused")
		return nil, promokit.Errorf(promokit.EForbidden, "link %s opens a page that is not allowed now (%s)", t.Link.ID, refused)
	}
	out := &ClickResult{URL: t.Link.URL, VisitorID: in.VisitorID}
	if in.Probe {
		return out, nil
	}
	if !promokit.ValidVisitorID(in.VisitorID) {
		out.VisitorID, out.NewVisitor = promokit.NewVisitorID(), true
	}
	c := &promokit.Click{
		LinkID: t.Link.ID, StoreID: t.Link.StoreID, PartnerID: t.Link.PartnerID, VisitorID: out.VisitorID,
		ClickedAt: now, Referrer: clip(in.Referrer), UserAgent: clip(in.UserAgent),
	}
	if isBot(in.UserAgent) {
		c.Flag = promokit.ClickBot
	}
	if err := s.clicks.add(ctx, c, out.NewVisitor); err != nil {
		s.metrics.click("unavailable")
		return nil, err
	}
	s.metrics.click("recorded")
	return out, nil
}

// clip bounds a stored text at maxClickText bytes, on a rune boundary,
// and makes it a text that every database holds: valid UTF-8 (a header may
// carry any byte) without NUL.
func clip(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == 0 || c >= utf8.RuneSelf {
			s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
			break
		}
	}
	if len(s) <= maxClickText {
		return s
	}
	i := maxClickText
	for i > 0 && s[i]&0xC0 == 0x80 {
		i--
	}
	return s[:i]
}

// clickTarget returns the link of token and its store's membership, from
// the cache when fresh, and why its URL may not be redirected to now (a
// field error code of promokit.PageURLProblem; "" when it may).
func (s *Service) clickTarget(ctx context.Context, token string, now time.Time) (*promokit.ClickTarget, string, error) {
	c := &s.clickTargets
	c.mu.Lock()
	e, ok := c.m[token]
	c.mu.Unlock()
	if ok && now.Before(e.until) && !now.Before(e.at) {
		return e.target, e.refused, e.err
	}
	var t *promokit.ClickTarget
	err := s.read(ctx, func(tx storage.Tx) error {
		var err error
		t, err = tx.LinkGetTarget(ctx, token)
		return err
	})
	if err != nil && !isNotFound(err) {
		return nil, "", err
	}
	var refused string
	if isNotFound(err) {
		s.metrics.click("not_found")
		err = promokit.Errorf(promokit.ENotFound, "no such link")
	} else {
		// The URL is checked once per fill of the cache, not per click.
		refused, _ = promokit.PageURLProblem("url", t.Link.URL, t.RedirectHosts)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxClickTargets {
		c.m = make(map[string]clickTargetEntry)
	}
	c.m[token] = clickTargetEntry{target: t, refused: refused, err: err, at: now, until: now.Add(clickTargetTTL)}
	c.mu.Unlock()
	return t, refused, err
}

// clickTargets caches LinkGetTarget by token, the missing ones too, so that
// a flood of one forged token costs one query a second.
type clickTargets struct {
	mu sync.Mutex
	m  map[string]clickTargetEntry
}

type clickTargetEntry struct {
	target    *promokit.ClickTarget
	refused   string // why the link's URL may not be redirected to
	err       error
	at, until time.Time
}

// clickWriter queues clicks and writes them in batches. Its writes run
// under ctx, the writer's own context for as long as the service lives:
// a click is written after its request was answered, so no request's
// context may end its write. Each write has batchTimeout at most, and
// Close ends ctx when its own context ends before the writer has stopped.
type clickWriter struct {
	s      *Service
	flush  time.Duration
	queue  chan queuedClick
	ctx    context.Context
	cancel context.CancelFunc

	start   sync.Once
	closing sync.Once
	stop    chan struct{}
	stopped chan struct{}
	// flushReq asks the writer to write what is queued now; the reply
	// channel is closed once it is written.
	flushReq chan chan error
}

func newClickWriter(s *Service, flush time.Duration) *clickWriter {
	if flush <= 0 {
		flush = DefaultClickFlush
	}
	// The writer outlives every request, so its context is its own.
	ctx, cancel := context.WithCancel(context.Background())
	return &clickWriter{
		s: s, flush: flush, queue: make(chan queuedClick, maxClickQueue), ctx: ctx, cancel: cancel,
		stop: make(chan struct{}), stopped: make(chan struct{}), flushReq: make(chan chan error),
	}
}

// queuedClick is a click waiting for its write; fresh says that its
// visitor id was just made, so that it has no click before this one.
type queuedClick struct {
	c     *promokit.Click
	fresh bool
}

// add queues c, starting the writer on first use.
func (w *clickWriter) add(ctx context.Context, c *promokit.Click, fresh bool) error {
	w.start.Do(func() { go w.run() })
	q := queuedClick{c, fresh}
	select {
	case <-w.stop:
		// The queue may still have room, but nothing writes it any more.
		return promokit.Errorf(promokit.EUnavailable, "the server is shutting down")
	default:
	}
	select {
	case w.queue <- q:
		return nil
	default:
	}
	t := time.NewTimer(clickQueueWait)
	defer t.Stop()
	select {
	case w.queue <- q:
		return nil
	case <-t.C:
		return promokit.Errorf(promokit.EUnavailable, "clicks cannot be recorded now; try again")
	case <-ctx.Done():
		return ctx.Err()
	case <-w.stop:
		return promokit.Errorf(promokit.EUnavailable, "the server is shutting down")
	}
}

// run writes the queue: a batch is written once its first click has waited
// one flush interval, or at once when it is full, on a flush request and
// when stopping. Up to clickWriters batches are written at once, so that
// the writes keep up with the clicks on a database that takes concurrent
// inserts; a flush request is answered once every batch before it is
// written.
func (w *clickWriter) run() {
	defer close(w.stopped)
	var (
		batch    = make([]queuedClick, 0, maxClickBatch)
		timer    *time.Timer
		due      <-chan time.Time
		inFlight sync.WaitGroup
		slots    = make(chan struct{}, clickWriters)
	)
	dispatch := func(stopping bool) {
		for len(batch) > 0 {
			n := min(len(batch), maxClickBatch)
			part := slices.Clone(batch[:n])
			batch = batch[n:]
			slots <- struct{}{}
			inFlight.Add(1)
			go func() {
				defer inFlight.Done()
				w.writeRetrying(part, stopping)
				<-slots
			}()
		}
		batch = make([]queuedClick, 0, maxClickBatch)
	}
	for {
		var reply chan error
		select {
		case q := <-w.queue:
			batch = append(batch, q)
			if len(batch) == 1 {
				timer = time.NewTimer(w.flush)
				due = timer.C
			}
			if len(batch) < maxClickBatch {
				continue
			}
		case <-due:
		case reply = <-w.flushReq:
		case <-w.stop:
			batch = w.drain(batch)
			dispatch(true)
			inFlight.Wait()
			return
		}
		if timer != nil {
			timer.Stop()
			timer, due = nil, nil
		}
		if reply != nil {
			batch = w.drain(batch)
		}
		dispatch(false)
		if reply != nil {
			inFlight.Wait()
			reply <- nil
		}
	}
}

// drain adds what is queued now to batch.
func (w *clickWriter) drain(batch []queuedClick) []queuedClick {
	for {
		select {
		case q := <-w.queue:
			batch = append(batch, q)
		default:
			return batch
		}
	}
}

// writeRetrying writes one batch, retrying a failure with a growing pause
// until it is written (or, when stopping, three times; and not once the
// writer's context has ended). A batch the database refuses for one of
// its clicks is written in halves, so that every other click is stored
// (isolate.go); a click refused alone is written again without its
// referrer and user agent, the only texts of a click that its request
// chose, so that it still counts, and dropped, logged, only if the
// database refuses it even so: writing it again would hold the writer
// forever.
func (w *clickWriter) writeRetrying(batch []queuedClick, stopping bool) {
	pause := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		var (
			failed, bare []queuedClick
			failure      error
		)
		isolate(batch, w.write, w.s.memberFault, func(part []queuedClick, err error) {
			if len(part) > 1 || !w.s.memberFault(err) {
				failed, failure = append(failed, part...), err
				return
			}
			q := part[0]
			if q.c.Referrer == "" && q.c.UserAgent == "" {
				w.s.log.Error("a click the database refuses was dropped", "link", q.c.LinkID, "err", err)
				w.s.metrics.click("dropped")
				return
			}
			w.s.log.Warn("a click is stored without the referrer and user agent the database refuses", "link", q.c.LinkID, "err", err)
			c := *q.c
			c.Referrer, c.UserAgent = "", ""
			bare = append(bare, queuedClick{&c, q.fresh})
		})
		if len(failed) == 0 && len(bare) == 0 {
			return
		}
		batch = append(failed, bare...)
		if len(failed) == 0 {
			continue // the bare clicks: at once
		}
		w.s.log.Error("write clicks", "clicks", len(failed), "attempt", attempt, "err", failure)
		if stopping && attempt == 3 || w.ctx.Err() != nil {
			return
		}
		time.Sleep(pause)
		pause = min(2*pause, 5*time.Second)
	}
}

// write inserts one batch of clicks, flagging floods: a visitor's clicks on
// one link past the policy's number within the hour before each click.
func (w *clickWriter) write(batch []queuedClick) error {
	ctx, cancel := context.WithTimeout(w.ctx, batchTimeout)
	defer cancel()
	start := time.Now()
	clicks := make([]*promokit.Click, len(batch))
	for i, q := range batch {
		clicks[i] = q.c
	}
	err := w.s.write(ctx, func(tx storage.Tx) error {
		settings, err := tx.SettingsGet(ctx)
		if err != nil {
			return err
		}
		if limit := settings.Policy.Affiliate.ClickFloodPerHour; limit > 0 {
			if err := flagFloods(ctx, tx, batch, limit); err != nil {
				return err
			}
		}
		return tx.ClickInsertMany(ctx, clicks)
	})
	w.s.metrics.clickBatch(len(batch), time.Since(start), err)
	return err
}

// flagFloods flags the clicks of batch that pass limit clicks of one
// visitor on one link within an hour, counting the stored clicks of the
// hour before the batch's first and the batch's own. Two processes
// writing at once may each miss the other's clicks of that moment: a flag
// is a report, not a limit.
func flagFloods(ctx context.Context, tx storage.Tx, batch []queuedClick, limit int64) error {
	seen := map[storage.VisitorLink]int64{}
	pairs := make([]storage.VisitorLink, 0, len(batch))
	for _, q := range batch {
		if q.c.Flag == promokit.ClickFlood {
			q.c.Flag = "" // of an attempt that failed: flagged again below
		}
		k := storage.VisitorLink{VisitorID: q.c.VisitorID, LinkID: q.c.LinkID}
		if _, ok := seen[k]; !ok {
			seen[k] = 0
			// A visitor id made for this click has no click before it.
			if !q.fresh {
				pairs = append(pairs, k)
			}
		}
	}
	counts := map[storage.VisitorLink]int64{}
	if len(pairs) > 0 {
		var err error
		if counts, err = tx.ClickCountMany(ctx, batch[0].c.ClickedAt.Add(-time.Hour), pairs, limit+1); err != nil {
			return err
		}
	}
	for _, q := range batch {
		k := storage.VisitorLink{VisitorID: q.c.VisitorID, LinkID: q.c.LinkID}
		seen[k]++
		if counts[k]+seen[k] > limit && q.c.Flag == "" {
			q.c.Flag = promokit.ClickFlood
		}
	}
	return nil
}

// FlushClicks writes the clicks queued so far and returns once they are
// stored (tests and shutdown use it).
func (s *Service) FlushClicks(ctx context.Context) error {
	w := s.clicks
	w.start.Do(func() { go w.run() })
	reply := make(chan error, 1)
	select {
	case w.flushReq <- reply:
	case <-w.stopped:
		return errors.New("engine: the click writer has stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close writes the queued clicks and stops the click writer; clicks after
// it are answered EUnavailable. It waits at most until ctx ends; then the
// writes in flight are cancelled, and the clicks not yet written are lost.
func (s *Service) Close(ctx context.Context) error {
	w := s.clicks
	w.start.Do(func() { go w.run() })
	w.closing.Do(func() { close(w.stop) })
	select {
	case <-w.stopped:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel()
		return ctx.Err()
	}
}
