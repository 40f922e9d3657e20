#include "signals.hpp"

#include <csignal>

namespace dtrain::cli {
namespace {

volatile std::sig_atomic_t g_signal = 0;  // see the header: the one process-wide flag

extern "C" void note_signal(int sig) {
  if (g_signal == 0) g_signal = sig;
}

struct sigaction g_previous_term, g_previous_usr1;

}  // namespace

SignalWatcher::SignalWatcher() {
  g_signal = 0;
  struct sigaction action {};
  action.sa_handler = note_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, &g_previous_term);
  sigaction(SIGUSR1, &action, &g_previous_usr1);
}

SignalWatcher::~SignalWatcher() {
  sigaction(SIGTERM, &g_previous_term, nullptr);
  sigaction(SIGUSR1, &g_previous_usr1, nullptr);
}

bool SignalWatcher::requested() const { return g_signal != 0; }
int SignalWatcher::signal() const { return g_signal; }

}  // namespace dtrain::cli
