// /etc/redline/redline.yaml: any bytes give flags or one error naming the
// file; the flags it yields go through the same parser as the command line.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/app/config_file.h"
#include "agent/app/flags.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto args = redline::ParseConfigFile(text, "redline.yaml");
  if (!args.ok()) {
    const std::string msg(args.status().message());
    if (msg.rfind("redline.yaml:", 0) != 0) __builtin_trap();
    if (msg.find('\n') != std::string::npos) __builtin_trap();  // one line
    return 0;
  }
  std::vector<std::string> argv = {"run"};
  for (const auto& a : *args) argv.push_back(a.flag);
  (void)redline::ParseFlags(argv);
  return 0;
}
