// The applet engine's topics: who publishes what, who subscribes (see each topic's doc comment).
//   applet.changed           applets        -> trigger-poller, actions
//   partner-service.changed  applets        -> trigger-poller, actions
//   trigger-event.recorded   trigger-poller -> actions
//   action-run.finished      actions        -> applets (activity log, auto-disable)
export * from './applet-changed';
export * from './partner-service-changed';
export * from './trigger-event-recorded';
export * from './action-run-finished';
