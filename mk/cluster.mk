# Scale-out (pkg/cluster): three server nodes as separate processes sharing one NATS
# server, and the cluster benchmarks.
#
#   test-cluster    tests/cluster: routed calls, publish to every node, a node killed, a
#                   node frozen, a burst of 10,000 publications with none lost, a durable
#                   topic's subscribers recovering what was published while their node
#                   was dead (and too old past retention)
#   bench-cluster   routed vs local call latency (p50/p99); publish fan-out to 10,000
#                   subscribers; deliveries lost in bursts of 10,000 publications (each
#                   Overflow mode, and a durable topic); time to recover from a node killed
#                   and from a node frozen (SIGSTOP); catch-up after a 10 s absence
#                   (durable topic)
TEST_TARGETS += test-cluster
BENCH_TARGETS += bench-cluster

.PHONY: test-cluster bench-cluster

test-cluster:
	$(GO) test -race -count=1 -v ./tests/cluster/

bench-cluster:
	$(GO) test -run '^$$' -bench 'Call|Fanout' -benchtime 2s ./tests/cluster/
	$(GO) test -run '^$$' -bench 'Burst|Recovery|CatchUp' -benchtime 2x ./tests/cluster/
