import type { Locator, Page } from '@playwright/test';

export class ListPage {
  constructor(readonly page: Page) {}

  card(name: string): Locator {
    return this.page
      .getByTestId('vm-card')
      .filter({ has: this.page.getByTestId('card-name').getByText(name, { exact: true }) });
  }

  async newVm(): Promise<void> {
    const empty = this.page.getByTestId('empty-state');
    if (await empty.isVisible()) await empty.getByRole('button').first().click();
    else await this.page.getByTestId('new-vm').click();
  }
}
