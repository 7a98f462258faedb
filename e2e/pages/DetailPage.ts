import { expect, type Page } from '@playwright/test';

export class DetailPage {
  constructor(readonly page: Page) {}

  private id(testId: string) {
    return this.page.getByTestId(testId);
  }

  async vmId(): Promise<string> {
    const m = /#\/vm\/([a-z0-9]{12})/.exec(this.page.url());
    if (!m) throw new Error(`not on a VM page: ${this.page.url()}`);
    return m[1]!;
  }

  async waitState(state: string, timeout = 60_000): Promise<void> {
    await expect(this.id('vm-detail')).toHaveAttribute('data-state', state, { timeout });
  }

  async tab(
    name: 'console' | 'serial' | 'monitor' | 'snapshots' | 'performance' | 'settings' | 'log',
  ): Promise<void> {
    await this.id(`tab-${name}`).click();
  }

  async confirm(): Promise<void> {
    await this.id('confirm-yes').click();
  }

  /** Text currently shown by the serial terminal (xterm's DOM rows). */
  async serialText(): Promise<string> {
    return this.page.locator('[data-testid="serial-terminal"] .xterm-rows').innerText();
  }

  /** Types a line into the serial terminal and waits until `expected` appears. */
  async serialRun(line: string, expected: RegExp, timeout = 30_000): Promise<void> {
    await this.page.locator('[data-testid="serial-terminal"] .xterm-helper-textarea').focus();
    await this.page.keyboard.type(line);
    await this.page.keyboard.press('Enter');
    await expect.poll(() => this.serialText(), { timeout }).toMatch(expected);
  }

  /** Any tab by its route name, including ones added after `tab()` was written (rollback). */
  async openTab(name: string): Promise<void> {
    await this.id(`tab-${name}`).click();
  }

  snapshotRow(name: string) {
    return this.page.locator(`[data-testid="snapshot-row"][data-snapshot-name="${name}"]`);
  }

  /** Takes a snapshot from the Snapshots tab and waits for its row. */
  async takeSnapshot(name: string): Promise<void> {
    await this.id('snapshot-take').click();
    await this.id('snapshot-name').fill(name);
    await this.id('snapshot-save').click();
    await expect(this.snapshotRow(name)).toBeVisible();
  }

  async renameSnapshot(from: string, to: string): Promise<void> {
    await this.snapshotRow(from).getByTestId('snapshot-rename').click();
    await this.id('snapshot-rename-input').fill(to);
    await this.id('snapshot-rename-save').click();
    await expect(this.snapshotRow(to)).toBeVisible();
  }

  /** The "you are here" marker; its data-after names the snapshot the VM is based on. */
  currentMarker() {
    return this.id('snapshot-current-marker');
  }
}
