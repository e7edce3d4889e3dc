package org.postilion.api.shaping;

/**
 * The shaping rules in force, as a service: a delivery protocol asks it for each destination. The
 * answer may change from one call to the next when an operator edits the cfg files.
 */
public interface TrafficShaping {

  /**
   * The limits for mail to {@code domain} going to {@code site}: the default, overridden by a rule
   * for the site, overridden by a rule for the domain.
   */
  ShapingSettings forDestination(String domain, String site);
}
