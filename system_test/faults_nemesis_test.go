package system_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// nemesisKind is one kind of fault.
type nemesisKind string

const (
	nemKillLeader      nemesisKind = "kill-leader"
	nemKillRandom      nemesisKind = "kill-random"
	nemPartitionLeader nemesisKind = "partition-leader"
	nemIsolateFollower nemesisKind = "isolate-follower"
	nemOneWayLeader    nemesisKind = "one-way-leader" // the leader hears, is not heard
	nemPauseLeader     nemesisKind = "pause-leader"
	nemRestartAll      nemesisKind = "restart-all"
	nemSnapshot        nemesisKind = "snapshot"
	nemRemoveReadd     nemesisKind = "remove-readd"
	nemSlowNet         nemesisKind = "slow-net"
	nemFlakyNet        nemesisKind = "flaky-net"
)

// allNemeses is every kind, in the order the schedule draws from.
var allNemeses = []nemesisKind{nemKillLeader, nemKillRandom, nemPartitionLeader, nemIsolateFollower,
	nemOneWayLeader, nemPauseLeader, nemRestartAll, nemSnapshot, nemRemoveReadd, nemSlowNet, nemFlakyNet}

// nemesisStep is one round of the schedule: wait Gap, inject Kind, hold
// it for Hold, heal. Pick chooses among candidate nodes (modulo their
// number), so the choice is fixed by the seed even though which node
// leads is only known at run time.
type nemesisStep struct {
	Kind  nemesisKind
	Pick  int
	Mode  linkMode // partitions: cut or blackhole
	Gap   time.Duration
	Hold  time.Duration
	Delay time.Duration // slow-net
}

func (s nemesisStep) String() string {
	mode := map[linkMode]string{linkCut: "cut", linkBlackhole: "blackhole"}[s.Mode]
	return fmt.Sprintf("%s pick=%d mode=%s gap=%s hold=%s delay=%s", s.Kind, s.Pick, mode, s.Gap, s.Hold, s.Delay)
}

// nemesisSchedule is the endless sequence of steps a seed gives: the same
// seed, the same steps.
type nemesisSchedule struct {
	rng   *rand.Rand
	order []nemesisKind
}

func newNemesisSchedule(seed uint64) *nemesisSchedule {
	s := &nemesisSchedule{rng: rand.New(rand.NewPCG(seed, 0x5eed)), order: slices.Clone(allNemeses)}
	s.rng.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
	return s
}

// next draws the next step. The first len(allNemeses) steps are every
// kind once, in an order the seed shuffles, so even a short run covers
// them all.
func (s *nemesisSchedule) next(round int) nemesisStep {
	r := s.rng
	var kind nemesisKind
	if round < len(s.order) {
		kind = s.order[round]
	} else {
		kind = allNemeses[r.IntN(len(allNemeses))]
	}
	step := nemesisStep{Kind: kind, Pick: r.IntN(1 << 16), Mode: []linkMode{linkCut, linkBlackhole}[r.IntN(2)],
		Gap:  time.Duration(300+r.IntN(1200)) * time.Millisecond,
		Hold: time.Duration(1000+r.IntN(3000)) * time.Millisecond}
	if kind == nemSlowNet {
		step.Delay = time.Duration(20+r.IntN(150)) * time.Millisecond
	}
	return step
}

// steps returns the first n steps of seed's schedule.
func scheduleSteps(seed uint64, n int) []nemesisStep {
	s := newNemesisSchedule(seed)
	out := make([]nemesisStep, n)
	for i := range out {
		out[i] = s.next(i)
	}
	return out
}

// nemesis applies steps to a fault cluster and counts what it did.
type nemesis struct {
	fc     *faultCluster
	mu     sync.Mutex
	counts map[nemesisKind]int
	log    []string
}

func newNemesis(fc *faultCluster) *nemesis {
	return &nemesis{fc: fc, counts: map[nemesisKind]int{}}
}

// total is the number of faults injected.
func (n *nemesis) total() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	sum := 0
	for _, c := range n.counts {
		sum += c
	}
	return sum
}

func (n *nemesis) summary() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	var parts []string
	for _, k := range allNemeses {
		parts = append(parts, fmt.Sprintf("%s=%d", k, n.counts[k]))
	}
	return strings.Join(parts, " ")
}

// sleep waits d or until stop closes, whichever is first.
func sleep(d time.Duration, stop <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	}
}

// pickOf returns candidates[pick mod len], or -1 if there are none.
func pickOf(pick int, candidates []int) int {
	if len(candidates) == 0 {
		return -1
	}
	return candidates[pick%len(candidates)]
}

// followers are the live nodes other than leader.
func (fc *faultCluster) followers(leader int) []int {
	var out []int
	for i := range fc.nodes {
		if i != leader && fc.live(i) {
			out = append(out, i)
		}
	}
	return out
}

// apply runs one step: injects the fault, holds it, heals it and waits
// for the cluster to have a leader again.
func (n *nemesis) apply(step nemesisStep, stop <-chan struct{}) {
	fc := n.fc
	fc.t.Helper()
	sleep(step.Gap, stop)
	leader := fc.waitLeader(readyTimeout)
	target := -1
	switch step.Kind {
	case nemKillLeader:
		target = leader
	case nemKillRandom, nemSnapshot:
		target = step.Pick % len(fc.nodes)
	case nemPartitionLeader, nemOneWayLeader, nemPauseLeader:
		target = leader
	case nemIsolateFollower, nemRemoveReadd:
		target = pickOf(step.Pick, fc.followers(leader))
	}
	if target < 0 && step.Kind != nemRestartAll && step.Kind != nemSlowNet && step.Kind != nemFlakyNet {
		n.note(fmt.Sprintf("%s: skipped, no target (leader %d)", step, leader))
		return
	}
	n.inject(step, target, leader, stop)
	fc.healAll()
	if fc.waitLeader(2*readyTimeout) < 0 {
		fc.t.Errorf("no leader %s after healing %s", 2*readyTimeout, step)
	}
}

func (n *nemesis) note(s string) {
	n.mu.Lock()
	n.log = append(n.log, time.Now().Format("15:04:05.000")+" "+s)
	n.mu.Unlock()
}

// inject applies the fault of step to target and holds it.
func (n *nemesis) inject(step nemesisStep, target, leader int, stop <-chan struct{}) {
	fc := n.fc
	name := "-"
	if target >= 0 {
		name = fc.nodes[target].ID()
	}
	n.note(fmt.Sprintf("inject %s on node %d (%s), leader was %d", step, target, name, leader))
	n.mu.Lock()
	n.counts[step.Kind]++
	n.mu.Unlock()
	switch step.Kind {
	case nemKillLeader, nemKillRandom:
		fc.kill(target)
		sleep(step.Hold, stop)
		fc.start(target)
	case nemPartitionLeader, nemIsolateFollower:
		fc.net.isolate(target, fc.all(), step.Mode)
		sleep(step.Hold, stop)
	case nemOneWayLeader:
		for _, o := range fc.all() {
			if o != target {
				fc.net.set(target, o, link{mode: linkBlackhole})
			}
		}
		sleep(step.Hold, stop)
	case nemPauseLeader:
		fc.pause(target)
		sleep(step.Hold, stop)
		fc.resume(target)
	case nemRestartAll:
		n.restartAll(step.Pick%2 == 0)
	case nemSnapshot:
		resp, err := statusClient.Post("http://"+fc.nodes[target].HTTPAddr+"/snapshot", "", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
				n.note(fmt.Sprintf("snapshot on %d: status %d", target, resp.StatusCode))
			}
		}
	case nemRemoveReadd:
		if err := fc.remove(target, leader); err != nil {
			n.note(fmt.Sprintf("remove: %v", err))
			return
		}
		sleep(step.Hold, stop)
		fc.readd(target)
	case nemSlowNet, nemFlakyNet:
		l := link{delay: step.Delay}
		if step.Kind == nemFlakyNet {
			l = link{drop: 0.02}
		}
		for _, a := range fc.all() {
			for _, b := range fc.all() {
				if a != b {
					fc.net.set(a, b, l)
				}
			}
		}
		sleep(step.Hold, stop)
	}
}

// restartAll stops every node (SIGKILL if kill, else SIGTERM), starts
// them all, and waits until they are ready.
func (n *nemesis) restartAll(kill bool) {
	fc := n.fc
	var wg sync.WaitGroup
	for i := range fc.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if kill {
				fc.kill(i)
			} else if d := fc.terminate(i); d > 15*time.Second {
				n.note(fmt.Sprintf("node %d took %s to stop after SIGTERM", i, d.Round(time.Millisecond)))
			}
		}()
	}
	wg.Wait()
	for _, nd := range fc.nodes {
		nd.Start()
	}
	for i := range fc.nodes {
		fc.waitReady(i, 2*readyTimeout)
	}
}
