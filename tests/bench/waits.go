package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Section 9: handlers that wait (time.Sleep standing in for a database call) at 64 calls
// in flight on one connection, the wsrpc server against a plain goroutine-per-request
// server on coder/websocket, both driven by the raw generator.

const waitInflight = 64

var waitMs = []int{1, 5, 20}

func waitShape(ms int) string { return fmt.Sprintf("%d, %d ms", waitInflight, ms) }

var done = []byte(`"result":"done"`)

// sleepWork calls sleep({"ms": ms}).
func sleepWork(ms int) workload {
	return workload{`","method":"sleep","params":{"ms":` + strconv.Itoa(ms) + `}}`,
		func(p []byte) bool { return bytes.Contains(p, done) }}
}

// rawSleeper is the plain server: a read loop; each request is decoded with encoding/json
// in a goroutine of its own, which sleeps params.ms and writes the reply under a mutex.
func rawSleeper(c *websocket.Conn) {
	ctx := context.Background()
	var mu sync.Mutex
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		typ, p, err := c.Read(ctx)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var req struct {
				ID     json.RawMessage `json:"id"`
				Method string          `json:"method"`
				Params sleepParams     `json:"params"`
			}
			if json.Unmarshal(p, &req) != nil || req.ID == nil || req.Method != "sleep" {
				return
			}
			time.Sleep(time.Duration(req.Params.Ms) * time.Millisecond)
			out, err := json.Marshal(struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Result  string          `json:"result"`
			}{"2.0", req.ID, "done"})
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			_ = c.Write(ctx, typ, out)
		}()
	}
}

func waitingHandlers(rep *report, o options, ws *wsServer) {
	plain, err := serveWS(rawSleeper)
	if err != nil {
		rep.Notes = append(rep.Notes, "section 9: "+err.Error())
		rep.failedToRun++
		return
	}
	defer plain.Close()
	for _, ms := range waitMs {
		w := sleepWork(ms)
		measureTurns(rep, o.t, 3, row{Section: "9", Shape: waitShape(ms), Conns: 1, InFlight: waitInflight}, 0, []turn{
			{nameGoroutineServer, rawGenTurn(plain.URL, 1, waitInflight, w, nil), 0},
			{nameServerSide, rawGenTurn(ws.URL, 1, waitInflight, w, nil), 0},
		})
	}
}
