// Test helper: both ends of one HTTP/2 connection as frames, header blocks
// encoded by nghttp2's HPACK deflater (one per direction, as real peers
// have), fed to a Connection that collects what it completes.
#ifndef REDLINE_TESTS_UNIT_H2_H2_TEST_SESSION_H_
#define REDLINE_TESTS_UNIT_H2_H2_TEST_SESSION_H_

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "agent/h2/connection.h"
#include "gtest/gtest.h"

namespace redline::h2 {

using Fields = std::vector<std::pair<std::string, std::string>>;

class Encoder {
 public:
  // `max` bounds the table this encoder uses, whatever the peer allows.
  explicit Encoder(size_t max = 4096) {
    EXPECT_EQ(nghttp2_hd_deflate_new(&d_, max), 0);
  }
  ~Encoder() { nghttp2_hd_deflate_del(d_); }
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  std::string Encode(const Fields& fields) {
    std::vector<nghttp2_nv> nva;
    for (const auto& [n, v] : fields) {
      nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                     reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())),
                     n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
    }
    std::string out(nghttp2_hd_deflate_bound(d_, nva.data(), nva.size()), 0);
    ssize_t n =
        nghttp2_hd_deflate_hd(d_, reinterpret_cast<uint8_t*>(out.data()),
                              out.size(), nva.data(), nva.size());
    EXPECT_GE(n, 0);
    out.resize(n < 0 ? 0 : static_cast<size_t>(n));
    return out;
  }
  // The peer's SETTINGS_HEADER_TABLE_SIZE, as the encoder applies it.
  void ChangeTableSize(size_t size) {
    EXPECT_EQ(nghttp2_hd_deflate_change_table_size(d_, size), 0);
  }
  size_t table_size() { return nghttp2_hd_deflate_get_dynamic_table_size(d_); }

 private:
  nghttp2_hd_deflater* d_ = nullptr;
};

inline std::string U32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
          static_cast<char>(v >> 8), static_cast<char>(v)};
}

class Session {
 public:
  static constexpr Direction kC2S = Direction::kClientToServer;
  static constexpr Direction kS2C = Direction::kServerToClient;

  explicit Session(size_t max_streams = Connection::kDefaultMaxStreams)
      : conn(max_streams) {}
  explicit Session(Connection c) : conn(std::move(c)) {}

  Encoder& encoder(Direction d) {
    return d == kC2S ? client_encoder : server_encoder;
  }
  // One raw frame; `length` defaults to the payload's size.
  void Frame(Direction d, uint8_t type, uint8_t flags, uint32_t id,
             const std::string& payload, bool truncated = false,
             int64_t length = -1) {
    FrameEvent f;
    f.direction = d;
    f.timestamp_ns = now += 1000;
    f.type = type;
    f.flags = flags;
    f.stream_id = id;
    f.length = length < 0 ? payload.size() : static_cast<uint32_t>(length);
    f.payload = payload;
    f.truncated = truncated;
    conn.OnFrame(f, &done);
  }
  // A whole header block in one HEADERS frame.
  void Headers(Direction d, uint32_t id, const Fields& fields,
               bool end_stream = false) {
    Frame(d, kFrameHeaders, kFlagEndHeaders | (end_stream ? kFlagEndStream : 0),
          id, encoder(d).Encode(fields));
  }
  void Data(Direction d, uint32_t id, bool end_stream) {
    Frame(d, kFrameData, end_stream ? kFlagEndStream : 0, id, "",
          /*truncated=*/true, /*length=*/100);
  }
  void Rst(Direction d, uint32_t id, uint32_t code) {
    Frame(d, kFrameRstStream, 0, id, U32(code));
  }
  void Settings(Direction d, uint16_t id, uint32_t value) {
    std::string p = {static_cast<char>(id >> 8), static_cast<char>(id)};
    Frame(d, kFrameSettings, 0, 0, p + U32(value));
  }
  void SettingsAck(Direction d) { Frame(d, kFrameSettings, kFlagAck, 0, ""); }

  Encoder client_encoder;
  Encoder server_encoder;
  Connection conn;
  std::vector<CompletedRequest> done;
  uint64_t now = 0;
};

inline Fields Get(const std::string& path) {
  return {{":method", "GET"},
          {":scheme", "http"},
          {":path", path},
          {":authority", "example.com"},
          {"user-agent", "redline-test"}};
}

inline Fields Status(int code) {
  return {{":status", std::to_string(code)},
          {"content-type", "text/plain"},
          {"server", "test"}};
}

}  // namespace redline::h2

#endif  // REDLINE_TESTS_UNIT_H2_H2_TEST_SESSION_H_
