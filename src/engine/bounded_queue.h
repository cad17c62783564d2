// BoundedQueue: a blocking multi-producer multi-consumer FIFO with a fixed capacity, for handing
// whole batches between threads. push() blocks when full: that is the engine's backpressure.
// Thread-safe. The lock is taken once per batch (hundreds to thousands of transactions), never
// per transaction, so it costs nothing measurable on the hot path (see docs/adr/0001).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace fw {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // Blocks while full. Returns false (and drops nothing: item is left unmoved) once closed.
  bool push(T& item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || closed_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  bool push(T&& item) { return push(item); }

  // Blocks until an item is available; nullopt once closed and drained.
  std::optional<T> pop() {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty() || closed_; });
    return take_locked();
  }

  // Waits at most `timeout` for an item.
  template <typename Duration>
  std::optional<T> pop_for(Duration timeout) {
    std::unique_lock lock(mu_);
    not_empty_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
    return take_locked();
  }

  // After close(), push() fails and pop() returns the remaining items, then nullopt.
  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  std::optional<T> take_locked() {
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return item;
  }

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_;   // guarded by mu_
  std::condition_variable not_empty_;  // guarded by mu_
  std::deque<T> items_;                // guarded by mu_
  bool closed_ = false;                // guarded by mu_
};

}  // namespace fw
