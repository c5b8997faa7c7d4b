// Package cluster runs wsrpc servers on several nodes as one service, over NATS: code on
// any node can call or notify a connection held by any other node, publish to topics
// that connections on every node subscribe to, and see which connections are present.
//
// A Hub is one node's member. Attach it to a wsrpc.Server and every connection the
// server accepts becomes addressable, by its channel id or by application keys such as
// the user id that Config.Authenticate set on it:
//
//	hub, _ := cluster.New(ctx, cluster.Config{Keys: []string{"user"}})
//	defer hub.Close()
//	srv, _ := hub.NewServer(methods, wsrpc.WithAuthenticate(auth))
//	http.Handle("/ws", srv)
//
//	var out string
//	err := hub.Call(ctx, cluster.Key("user", "42"), "whoami", nil, &out) // wherever user 42 is
//	err = hub.Publish(ctx, "news", map[string]string{"text": "hello"})  // every subscriber
//
// # NATS
//
// With no Config.NATSURLs the hub runs an embedded NATS server in this process that
// accepts no network connections: a single node needs no setup. With NATSURLs
// ("nats://10.0.0.5:4222") it joins an existing NATS deployment; every node of the
// service uses the same one. Config.EmbeddedListen lets the embedded server of one node
// accept the others (handy for development; use a real NATS cluster in production, so
// that no node is special).
//
// Subjects, under Config.Prefix ("wsrpc"): c.<channel id> and kq|ka.<key>.<value> (one
// subscription per connection, queue group for calls), t.<topic> (one per topic per
// node), cancel, presence.{ev,hb,bye,snap.<node>}. Names that are not [A-Za-z0-9_-] are
// base64url-encoded behind "~".
//
// # Routed calls
//
// Call and Notify are NATS request/reply to the node that holds the connection (or
// direct when it is this one). A target connected nowhere fails at once with
// ErrNoTarget (NATS reports that nobody listens). The caller's deadline travels with the
// request, a cancelled caller tells the serving node to stop waiting, and a
// *wsrpc.Error answer comes back as *wsrpc.Error; local failures on the serving node
// come back as the same wsrpc sentinels (ErrTimeout, ErrConnectionLost, ...).
//
// # Publish/subscribe
//
// Clients subscribe with the methods Attach adds, which are those of
// fastapi-websocket-pubsub: subscribe({"topics": [...]}) -> true, unsubscribe likewise,
// publish({"topics", "data", "sync", "notifier_id"}) -> true. Each publication reaches
// every subscriber on every node by a "notify" with params
// {"subscription": {"id", "subscriber_id", "topic", "notifier_id"}, "data"}: a call
// (a request the subscriber answers) on legacy-dialect connections such as Python's
// PubSubClient (serve the server with wsrpc.WithDialect(wsrpc.DialectAuto) for them),
// a JSON-RPC 2.0 notification on others (Config.NotifyAsCall makes it a call there too).
// Notifications because a publication is fire-and-forget, so fanning out to many
// subscribers costs no pending-call entries and no answers; a client handles both forms
// with the same "notify" method (HandleNotify). Each publication travels once per
// subscribed node; a node writes it to each of its subscribers through a short queue of
// their own (Config.DeliveryQueue, 1024).
//
// When a subscriber reads slower than its topic is published, its queue fills up, and
// the topic's Overflow (Config.Topics) decides; no mode drops silently, and in both the
// subscriber's backlog on its node stays bounded:
//
//   - Backpressure (the default): the node waits for room. Every subscriber gets every
//     publication once, in publish order; the topic's later publications wait on that
//     node (in its NATS buffer, Config.TopicBuffer, 64 MiB), so the slow subscriber sets
//     the pace of the topic on its node, and Publish waits (up to its context) once
//     Config.PublishWindow (1024) of the publisher's publications wait there: each
//     subscribed node answers a publication once it has queued it. A subscriber that
//     stops reading is closed by its server after wsrpc's WriteTimeout (10 s). Counted
//     in Stats.Waited and Stats.PublishWaited.
//   - Disconnect: the node closes the slow subscriber's connection; its client
//     reconnects and subscribes again, having missed what was queued for it (counted in
//     Stats.Dropped) and what is published until it is back. The topic's other
//     subscribers are never delayed. Counted in Stats.Disconnected.
//
// # Durable topics
//
// A topic with TopicConfig.Durable keeps its publications in a JetStream stream (the
// NATS deployment must run JetStream; the embedded server does, storing in
// Config.StoreDir), up to TopicConfig.MaxMsgs and MaxAge. Publish returns once the
// stream stored the publication. Each delivery carries the publication's offset in the
// stream and the stream's epoch, inside "subscription" ({"id", "subscriber_id",
// "topic", "notifier_id", "offset", "epoch"}: the legacy envelope has no other place
// for them, and Python's PubSubClient ignores keys it does not know there). A client
// that subscribes with "since": {topic: {"offset", "epoch"}} (SubscribeSince, a wsrpc
// extension of subscribe; Resumer does it on every connect, from the last offset it
// received) gets, on whichever node, every publication after that offset, in order and
// once, then the new ones; the answer, {"topics": {topic: {"offset", "epoch",
// "recovered", "too_old"}}}, says whether the recovery is complete or retention dropped
// part of it (too_old: what the history still holds is delivered), and where a
// subscription without a position starts. An epoch that is not the stream's (the stream
// was deleted and made again) recovers nothing (recovered false); an offset the stream
// never reached is invalid params (ErrBadOffset). A subscribe without "since" answers
// true, as fastapi-websocket-pubsub does, and starts from now: a Python PubSubClient
// gets offsets but does not send them back, so it does not recover.
//
// Each subscriber reads the stream at its own pace through an ordered consumer of its
// own (Overflow does not apply): a slow subscriber never delays the topic's others, and
// loses nothing until retention drops what it has not read; its node then closes its
// connection (counted in Stats.Dropped and Stats.Disconnected) and, back, it is told
// too_old. Each subscriber of a durable topic costs its node a JetStream consumer; use
// plain topics for very wide fan-out. AllTopics subscribers get a durable topic's
// publications live, as those of plain topics, without offsets.
//
// # Presence
//
// Every node keeps a replica of the cluster's connections (Presence, Lookup, Nodes) and
// reports changes (Watch): connected, disconnected, updated (Bind). Nodes number their
// changes and heartbeat; a gap, a newcomer or a heartbeat ahead makes a node fetch a
// snapshot by request/reply, so replicas converge without a central store. A node is
// known by its id and an incarnation drawn at start: once it said goodbye (Close) or was
// declared lost, anything of that incarnation arriving later is ignored, so its
// connections never come back; the same id started again is a new incarnation.
//
// On top of the connections, each node counts those of each key value across the
// cluster (Connections(Key("user", "42"))) and of each topic (TopicStats), and reports
// key values going Online and Offline (WatchKeys): Online when the count goes from 0 to
// 1, Offline when it has stayed 0 for Config.OfflineGrace (5 s). A user whose
// connection moves to another node therefore never reads offline, whichever of its
// old connection's end and its new connection the node sees first, and a node's short
// NATS outage (its connections reported Disconnected, NodeLost, then Connected again
// as its clients come back) makes no Online or Offline event.
//
// # Failures
//
//   - A node that dies or freezes: the other nodes report its connections Disconnected
//     (NodeLost) after three missed heartbeats (judged only by nodes whose own
//     heartbeats come back through NATS in time: a stalled NATS server delays everyone's
//     alike), and from then on route nothing to it
//     (calls go to the node presence lists as holding the target, by a subject of that
//     node's incarnation); calls in flight to it end at once with ErrNodeLost (which
//     also matches wsrpc.ErrConnectionLost); a target that presence does not list is
//     looked up through NATS within Config.ReachTimeout (ErrNoTarget when nobody holds
//     it, ErrNodeLost when the holder does not answer). A node that wakes and finds
//     itself declared lost (it missed its own heartbeats, or another node tells it)
//     refuses routed calls, closes its connections so that their clients move, and
//     rejoins as a new incarnation. The NATS keepalive (NATSPingInterval,
//     NATSMaxPingsOut, used by the hub and its embedded server) drops a dead or frozen
//     connection within seconds. Its clients
//     reconnect to another node when they know several (wsrpc.WithFallbackURLs), become
//     addressable again under the same keys (with new channel ids), and must subscribe
//     again (subscriptions belong to a connection; Python's PubSubClient does it on
//     every connect).
//   - Publications on plain topics are core NATS: at most once. Those published while a
//     subscriber is reconnecting, or while a node is cut from NATS, are lost, not
//     replayed (durable topics replay them, see above). While no
//     node fails each subscriber gets each publication at most once, in publish order
//     (from one publisher), and exactly once with Backpressure as long as the node's
//     buffer of the topic (Config.TopicBuffer) does not overflow (NATS then drops, logged
//     and counted in Stats.Dropped), or with Disconnect as long as it is not
//     disconnected.
//   - Cut off from NATS, Call, Notify and Publish fail with ErrUnavailable within
//     Config.ReachTimeout (Config.WaitDuringOutage waits instead).
//   - Calls in flight to a connection that is lost end with wsrpc.ErrConnectionLost, or
//     ErrNodeLost (matching it too) when the serving node is declared lost or leaves:
//     the method may or may not have run.
//     Calls are never retried.
package cluster
