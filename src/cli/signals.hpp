// SignalWatcher: notes SIGTERM / SIGUSR1 (what Slurm sends before a time limit
// or a preemption) so training can stop at the next step boundary.
//
//   SignalWatcher signals;              // installs the handlers, restores them on exit
//   if (signals.requested()) { ...checkpoint, then exit kExitPreempted... }
//
// A signal handler can only set a flag: the flag is the one piece of process-
// wide state in dtrain, owned by this class. A second signal while the
// checkpoint is written changes nothing (the write is atomic anyway).
#pragma once

namespace dtrain::cli {

class SignalWatcher {
 public:
  SignalWatcher();
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  bool requested() const;
  int signal() const;  // the first signal caught, 0 if none
};

}  // namespace dtrain::cli
