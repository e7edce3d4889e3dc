/**
 * Several nodes as one cluster: limits that hold across all of them, kept in Redis by the
 * postilion-cluster bundle.
 */
package org.postilion.api.cluster;
