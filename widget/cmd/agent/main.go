//go:build js

// Command agent is the agent page's WebAssembly program. It reads the settings
// from the data attributes of #siegel-agent, builds the page inside that
// element and wires the agent view-model (package agent) to the browser
// (package jsbridge). All logic lives in package agent; this file only binds.
package main

import (
	"strconv"
	"time"

	"siegel/widget/agent"
	"siegel/widget/jsbridge"
	"siegel/widget/session"
)

func main() {
	root, ok := jsbridge.ByID("siegel-agent")
	if !ok {
		return
	}
	attr := func(name string) string { v, _ := root.Attr(name); return v }
	cfg := agent.Config{
		Lang:    agent.PickLang(jsbridge.Languages()),
		Site:    attr("data-site"),
		Relay:   attr("data-relay"),
		DemoKey: attr("data-demo-key"),
		Owner:   attr("data-owner"),
		Rand:    jsbridge.Random,
	}
	p := &platform{}
	app := agent.New(p, cfg)
	v := newView(root, app)
	p.render = v.render
	jsbridge.SetLang(cfg.Lang.Code())
	jsbridge.OnDocument("visibilitychange", func(jsbridge.Event) {
		app.SetVisible(!jsbridge.DocumentHidden())
	})
	app.SetVisible(!jsbridge.DocumentHidden())
	app.Start()
	select {}
}

// platform implements agent.Platform with the browser's APIs.
type platform struct {
	render  func()
	pending bool
}

func (p *platform) Now() time.Time { return jsbridge.Now() }

func (p *platform) After(d time.Duration, f func()) func() {
	t := jsbridge.AfterFunc(d, f)
	return func() { t.Stop() }
}

func (p *platform) AfterPaint(f func()) { jsbridge.AfterPaint(f) }

func (p *platform) Dial(url string, h agent.Handlers) (session.Transport, error) {
	ws, err := jsbridge.DialWebSocket(url, jsbridge.SocketHandlers{
		OnOpen:    h.OnOpen,
		OnMessage: h.OnMessage,
		OnClose:   func(code int, _ string) { h.OnClose(code) },
	})
	if err != nil {
		return nil, err
	}
	return ws, nil
}

func (p *platform) LoadKey() (string, bool)   { return jsbridge.StorageGet(agent.StorageKey) }
func (p *platform) SaveKey(text string) error { return jsbridge.StorageSet(agent.StorageKey, text) }
func (p *platform) RemoveKey()                { jsbridge.StorageRemove(agent.StorageKey) }

func (p *platform) LoadCounter() uint64 {
	v, _ := jsbridge.StorageGet(agent.CounterKey)
	n, _ := strconv.ParseUint(v, 10, 64)
	return n
}

func (p *platform) SaveCounter(n uint64) {
	jsbridge.StorageSet(agent.CounterKey, strconv.FormatUint(n, 10))
}

func (p *platform) Notify(title, body, tag string) { jsbridge.Notify(title, body, tag) }

func (p *platform) FetchText(url string, done func(string, error)) { jsbridge.FetchText(url, done) }

// Changed renders once after the current event (several changes coalesce).
func (p *platform) Changed() {
	if p.pending || p.render == nil {
		return
	}
	p.pending = true
	jsbridge.AfterFunc(0, func() {
		p.pending = false
		p.render()
	})
}
