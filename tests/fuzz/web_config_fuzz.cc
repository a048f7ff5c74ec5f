// The web config file (exporter-toolkit format): any bytes give a config or
// one error line naming the file, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include "exporters/web_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto cfg = redline::prom::ParseWebConfig(text, "/nonexistent/web.yml");
  if (!cfg.ok()) {
    const std::string msg(cfg.status().message());
    if (msg.rfind("/nonexistent/web.yml", 0) != 0) __builtin_trap();
    if (msg.find('\n') != std::string::npos) __builtin_trap();
  }
  return 0;
}
