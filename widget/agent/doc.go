// Package agent is the pure-Go view-model of the agent page: the key phases
// (import, unlock, lock), the conversation list with unread counts, the
// transcripts with the send state of own replies, the connection status with
// reconnect backoff, and the German and English texts.
//
// App drives a session.Session (agent role) over a Platform, which the js
// build implements with package jsbridge and the tests in memory; Inbox holds
// the conversations. Nothing here touches syscall/js, so everything tests
// natively with -race and under WebAssembly alike.
package agent
