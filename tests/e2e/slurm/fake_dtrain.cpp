// A stand-in for `dtrain train` with the same command line, exit codes and signal
// behaviour, used to test the launch scripts (jobs/local.sh, jobs/slurm/train.sbatch)
// without training a model:
//
//   mpirun -n 2 dtrain_fake_train train CONFIG [--resume auto|PATH] [--threads N]
//          [--run-dir DIR] [--set fit.epochs=E] [--set step_ms=M] [--stall-timeout S] [--profile]
//
// CONFIG is a text file of flat `key: value` lines; keys `steps_per_epoch` (default 10),
// `fit.epochs` (default 1) and `step_ms` (default 200) are read, others ignored; --set
// overrides them. Every "step" sleeps step_ms, then all ranks
// agree (one MPI_Allreduce) on whether a SIGTERM/SIGUSR1 arrived on any rank. On a
// stop request rank 0 writes RUN_DIR/checkpoint.txt (write, fsync, rename) and every
// rank exits 3. `--resume auto` continues from RUN_DIR/checkpoint.txt if it exists.
// Rank 0 prints the lines of the real command that the tests look for (the header
// with "N ranks x T thread(s)" and "S steps per epoch", "Resuming from", "Stopped by
// signal", "Trained N steps", "Checkpoint:"). Exit codes: 0 done, 2 usage/config
// error, 3 stopped after a checkpoint.
#define OMPI_SKIP_MPICXX 1  // the C API is enough; the C++ bindings do not build cleanly
#include <mpi.h>

#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;  // a signal handler can only touch this

extern "C" void on_stop_signal(int sig) { g_stop_signal = sig; }

struct Args {
  std::string config;
  std::string resume;
  std::string run_dir = ".";
  int threads = 1;
  std::map<std::string, std::string> sets;
};

[[noreturn]] void usage_error(int rank, const std::string& message) {
  if (rank == 0) std::cerr << "dtrain: error: " << message << '\n';
  MPI_Finalize();
  std::exit(2);
}

Args parse_args(int rank, int argc, char** argv) {
  Args args;
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.empty() || a[0] != "train") usage_error(rank, "expected subcommand 'train'");
  for (std::size_t i = 1; i < a.size(); ++i) {
    const auto value = [&]() -> std::string {
      if (i + 1 >= a.size()) usage_error(rank, a[i] + " needs a value");
      return a[++i];
    };
    if (a[i] == "--resume") {
      args.resume = value();
    } else if (a[i] == "--run-dir") {
      args.run_dir = value();
    } else if (a[i] == "--threads") {
      args.threads = std::atoi(value().c_str());
    } else if (a[i] == "--stall-timeout") {
      value();
    } else if (a[i] == "--profile") {
    } else if (a[i] == "--set") {
      const std::string kv = value();
      const auto eq = kv.find('=');
      if (eq == std::string::npos) usage_error(rank, "--set expects key=value, got '" + kv + "'");
      args.sets[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (args.config.empty() && a[i].rfind("--", 0) != 0) {
      args.config = a[i];
    } else {
      usage_error(rank, "unknown argument '" + a[i] + "'");
    }
  }
  if (args.config.empty()) usage_error(rank, "missing CONFIG");
  return args;
}

std::map<std::string, std::string> read_config(int rank, const std::string& path) {
  std::ifstream in(path);
  if (!in) usage_error(rank, "cannot open config '" + path + "'");
  std::map<std::string, std::string> kv;
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos || line[0] == '#') continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    kv[line.substr(0, colon)] = value;
  }
  return kv;
}

long read_checkpoint(const std::string& path) {
  std::ifstream in(path);
  long step = -1;
  if (in) in >> step;
  return step;
}

void write_checkpoint(const std::string& path, long step) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) {
    std::perror(tmp.c_str());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  std::fprintf(f, "%ld\n", step);
  std::fflush(f);
  fsync(fileno(f));
  std::fclose(f);
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGUSR1, on_stop_signal);
  MPI_Init(&argc, &argv);
  int rank = 0;
  int size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);

  const Args args = parse_args(rank, argc, argv);
  auto config = read_config(rank, args.config);
  for (const auto& [k, v] : args.sets) config[k] = v;
  const auto number = [&config](const std::string& key, long fallback) {
    return config.count(key) ? std::atol(config[key].c_str()) : fallback;
  };
  const long steps_per_epoch = number("steps_per_epoch", 10);
  const long steps = steps_per_epoch * number("fit.epochs", 1);
  const long step_ms = number("step_ms", 200);
  const std::string ckpt = args.run_dir + "/checkpoint.txt";
  if (rank == 0) std::filesystem::create_directories(args.run_dir);

  long step = 0;
  if (!args.resume.empty()) {
    const std::string from = args.resume == "auto" ? ckpt : args.resume;
    const long saved = read_checkpoint(from);
    if (saved >= 0) {
      step = saved;
      if (rank == 0) std::cout << "Resuming from " << from << " (epoch 1, step " << step << ")" << std::endl;
    } else if (args.resume != "auto") {
      usage_error(rank, "cannot read checkpoint '" + from + "'");
    }
  }
  if (rank == 0) {
    std::cout << "dtrain stand-in: " << size << (size == 1 ? " rank" : " ranks") << " x " << args.threads
              << " thread(s) per rank; " << steps_per_epoch << " steps per epoch" << std::endl;
  }
  const long first_step = step;
  const auto start = std::chrono::steady_clock::now();

  while (step < steps) {
    std::this_thread::sleep_for(std::chrono::milliseconds(step_ms));
    ++step;
    int local = g_stop_signal;
    int any = 0;
    MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (any != 0 && step < steps) {
      if (rank == 0) {
        write_checkpoint(ckpt, step);
        std::cout << "Stopped by signal " << any << " at step " << step << "; checkpoint " << ckpt
                  << " (resume with --resume auto)" << std::endl;
      }
      MPI_Finalize();
      return 3;
    }
  }
  if (rank == 0) {
    write_checkpoint(ckpt, step);
    const std::chrono::duration<double> seconds = std::chrono::steady_clock::now() - start;
    std::cout << "Trained " << step - first_step << " steps in " << seconds.count() << " s (0 samples/s)\n"
              << "Checkpoint: " << ckpt << std::endl;
  }
  MPI_Finalize();
  return 0;
}
