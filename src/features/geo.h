// Great-circle distance between two points on the Earth. Pure functions; thread-safe.
#pragma once

#include <cmath>

namespace fw {

inline constexpr double kEarthRadiusKm = 6371.0088;  // mean radius (IUGG)

// Haversine distance in km between (lat1, lon1) and (lat2, lon2), in degrees. Error against the
// ellipsoid is below 0.5%, which is far inside what a travel-speed feature needs.
inline double haversine_km(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = 3.14159265358979323846 / 180.0;
  double dlat = (lat2 - lat1) * kRad;
  double dlon = (lon2 - lon1) * kRad;
  double a = std::sin(dlat / 2) * std::sin(dlat / 2) + std::cos(lat1 * kRad) *
                                                           std::cos(lat2 * kRad) *
                                                           std::sin(dlon / 2) * std::sin(dlon / 2);
  if (a > 1) a = 1;
  return 2 * kEarthRadiusKm * std::asin(std::sqrt(a));
}

}  // namespace fw
