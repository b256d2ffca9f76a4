package bridgetest_test

import (
	"testing"

	bridge "github.com/flotilla/flotilla/browser-bridge"
	"github.com/flotilla/flotilla/browser-bridge/bridgetest"
)

func TestChannelsAreTheBridges(t *testing.T) {
	if bridgetest.ChannelUnreliable != bridge.ChannelUnreliable || bridgetest.ChannelReliable != bridge.ChannelReliable {
		t.Fatal("bridgetest's channel ids differ from the bridge's")
	}
}
