// dtrain::Error — the one exception type of the library, carrying context.
//
//   throw ShapeError("matmul: inner dimensions differ, a=[128, 784] b=[512, 10]");
//
// Every error derives from Error; the command line maps the kinds to exit codes
// (see src/cli/main.cpp), and under MPI an error on one rank reaches every rank.
#pragma once

#include <stdexcept>
#include <string>

namespace dtrain {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Incompatible tensor shapes given to an op, a layer or a kernel.
class ShapeError : public Error {
 public:
  using Error::Error;
};

// A bad argument or configuration value (names the argument).
class ArgumentError : public Error {
 public:
  using Error::Error;
};

}  // namespace dtrain
