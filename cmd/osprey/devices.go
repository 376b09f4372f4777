package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/osprey-ndr/osprey/internal/config"
	"github.com/osprey-ndr/osprey/internal/devices"
	"github.com/osprey-ndr/osprey/internal/store"
)

// newInventory builds the device inventory of the devices section; the
// monitored networks are meter.local_nets.
func newInventory(cfg config.Config) (*devices.Inventory, error) {
	dc := devices.DefaultConfig()
	dc.LocalNets = cfg.Meter.LocalNets
	dc.MaxDevices, dc.MaxIPsPerMAC, dc.GatewayWindow = cfg.Devices.MaxDevices, cfg.Devices.MaxIPsPerMAC, cfg.Devices.GatewayWindow
	if err := dc.Validate(); err != nil {
		return nil, err
	}
	return devices.New(dc, devices.IEEE), nil
}

// saveDevices upserts the devices that changed since the last save.
func saveDevices(ctx context.Context, st store.Store, inv *devices.Inventory, since *time.Time) error {
	now := time.Now()
	if changed := inv.Changed(*since); len(changed) > 0 {
		if err := st.UpsertDevices(ctx, changed); err != nil {
			return fmt.Errorf("save devices: %w", err)
		}
	}
	*since = now
	return nil
}

// restoreDevices reloads a tenant's inventory from the store, so that a
// restarted sensor keeps its devices' history.
func restoreDevices(ctx context.Context, st store.Store, inv *devices.Inventory, tenant string, limit int) error {
	devs, err := st.Devices(ctx, store.DeviceQuery{Tenant: tenant, Limit: limit})
	if err != nil {
		return err
	}
	return inv.Restore(devs)
}

// writeDevicesFile writes the inventory as JSON lines (--devices FILE).
func writeDevicesFile(path string, inv *devices.Inventory) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, d := range inv.Devices() {
		if err := enc.Encode(d); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
