// dist_failure_tool: a small data-parallel training loop that can be told to
// fail on one rank in the middle of a step, for failure_test.sh.
//
//   mpiexec -n 3 dist_failure_tool --mode throw --fault-rank 2 --fault-step 3
//   mpiexec -n 3 dist_failure_tool --mode stall --how stop --fault-rank 2 --fault-step 3 --stall-timeout 10
//   (--transport mpi|shm: gradients through MPI_Iallreduce or shared memory)
//
// Each step: begin_step, forward, backward with the GradientReducer (64-float
// buckets: one per parameter, the first kernel in 2 pieces, so buckets are in
// flight mid-backward), finish, SGD, agree(), check_replicas(). The fault fires
// on --fault-rank at --fault-step inside backward, after its 4th op (--fault-op;
// bucket 1 of 5 started, 2..5 not):
//   throw: throws dtrain::Error; main calls Communicator::abort(what, 4).
//   stall: raise(SIGSTOP) (--how stop) or sleeps forever (--how sleep); the
//          other ranks' stall detector ends the job (exit code 5).
// Every rank writes its pid to --pid-dir/<rank>.pid first, so the driver can
// check that no rank outlives the job.
#include "dtrain/distributed/communicator.hpp"
#include "dtrain/distributed/gradient_reducer.hpp"
#include "dtrain/distributed/replica_check.hpp"
#include "dtrain/graph/ops.hpp"

#include <unistd.h>

#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace {

using namespace dtrain;

struct Options {
  std::string mode = "none";  // none | throw | stall
  std::string how = "stop";   // stop | sleep
  int fault_rank = 0;
  std::uint64_t fault_step = 3;
  double stall_timeout = 60;
  int steps = 8;
  int fault_op = 4;  // after which after_op() of backward the fault fires (1..14)
  std::string pid_dir;
  std::string transport = "auto";  // auto | mpi | shm: how the gradients travel
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw ArgumentError("missing value after " + a);
      return argv[++i];
    };
    if (a == "--mode") o.mode = next();
    else if (a == "--how") o.how = next();
    else if (a == "--fault-rank") o.fault_rank = std::stoi(next());
    else if (a == "--fault-step") o.fault_step = std::stoull(next());
    else if (a == "--stall-timeout") o.stall_timeout = std::stod(next());
    else if (a == "--steps") o.steps = std::stoi(next());
    else if (a == "--fault-op") o.fault_op = std::stoi(next());
    else if (a == "--pid-dir") o.pid_dir = next();
    else if (a == "--transport") o.transport = next();
    else throw ArgumentError("unknown option " + a);
  }
  if (o.mode != "none" && o.mode != "throw" && o.mode != "stall") throw ArgumentError("--mode " + o.mode);
  if (o.how != "stop" && o.how != "sleep") throw ArgumentError("--how " + o.how);
  if (o.transport != "auto" && o.transport != "mpi" && o.transport != "shm") {
    throw ArgumentError("--transport " + o.transport);
  }
  return o;
}

// Forwards to the reducer; fires the fault after op --fault-op of the fault step.
class FaultInjector : public graph::BackwardObserver {
 public:
  FaultInjector(distributed::GradientReducer& r, const Options& o, bool armed, std::uint64_t step)
      : reducer_(r), options_(o), armed_(armed), step_(step) {}
  void parameter_ready(std::size_t i) override { reducer_.parameter_ready(i); }
  void after_op() override {
    reducer_.after_op();
    if (!armed_ || ++ops_ != options_.fault_op) return;
    if (options_.mode == "throw") {
      throw Error("injected failure on rank " + std::to_string(options_.fault_rank) + " at step " +
                  std::to_string(step_));
    }
    if (options_.how == "stop") std::raise(SIGSTOP);
    for (;;) pause();  // sleeps until killed
  }

 private:
  distributed::GradientReducer& reducer_;
  const Options& options_;
  bool armed_;
  std::uint64_t step_;
  int ops_ = 0;
};

void run(distributed::Communicator& comm, const Options& o) {
  graph::Graph<float> g;
  const auto x = g.input("x", {graph::kBatch, 8});
  const auto y = g.input("y", {graph::kBatch, 4});
  const auto w1 = g.parameter("dense/kernel", {8, 16});
  const auto b1 = g.parameter("dense/bias", {16});
  const auto w2 = g.parameter("dense_1/kernel", {16, 4});
  const auto b2 = g.parameter("dense_1/bias", {4});
  const auto h = graph::tanh(g, graph::bias_add(g, graph::matmul(g, x, w1), b1));
  const auto out = graph::bias_add(g, graph::matmul(g, h, w2), b2);
  const auto loss = graph::sum(g, graph::square(g, graph::sub(g, out, y)));
  g.plan(16);
  {
    auto w0 = g.parameter_values();
    for (std::size_t i = 0; i < w0.size(); ++i) w0[i] = 0.05f * static_cast<float>(static_cast<int>(i % 13) - 6);
  }
  const auto transport = o.transport == "mpi"   ? distributed::ReduceTransport::mpi
                         : o.transport == "shm" ? distributed::ReduceTransport::shared_memory
                                                : distributed::ReduceTransport::automatic;
  distributed::GradientReducer reducer(comm, g, {.bucket_bytes = 64 * sizeof(float), .transport = transport});
  auto w = g.parameter_values();
  const std::int64_t n = 4 + comm.rank() % 3;
  for (std::uint64_t step = 0; step < static_cast<std::uint64_t>(o.steps); ++step) {
    g.set_batch(n);
    auto xv = g.value(x);
    auto yv = g.value(y);
    for (std::int64_t i = 0; i < xv.size(); ++i) xv.data[i] = std::sin(0.1f * static_cast<float>(i + comm.rank() * 7 + step));
    for (std::int64_t i = 0; i < yv.size(); ++i) yv.data[i] = std::cos(0.3f * static_cast<float>(i + step));
    reducer.begin_step(step, n);
    g.forward();
    const bool armed = o.mode != "none" && comm.rank() == o.fault_rank && step == o.fault_step;
    FaultInjector injector(reducer, o, armed, step);
    g.backward(loss, &injector);
    reducer.finish();
    auto grads = g.parameter_grads();
    for (std::size_t i = 0; i < w.size(); ++i) w[i] -= 0.01f * grads[i];
    if (comm.agree({}).stop) break;
    distributed::check_replicas(comm, w, step);
  }
  if (comm.rank() == 0) std::printf("finished %d steps on %d ranks\n", o.steps, comm.size());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dist_failure_tool: %s\n", e.what());
    return 2;
  }
  distributed::Communicator comm(argc, argv,
                          {.stall_timeout = std::chrono::duration<double>(o.stall_timeout), .stall_exit_code = 5});
  if (!o.pid_dir.empty()) {
    std::ofstream(o.pid_dir + "/" + std::to_string(comm.rank()) + ".pid") << getpid() << '\n';
  }
  comm.barrier("start");  // every pid file exists before any fault
  try {
    run(comm, o);
  } catch (const std::exception& e) {
    comm.abort(e.what(), 4);
  }
  return 0;
}
